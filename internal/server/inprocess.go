package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// InProcess is an http.RoundTripper that serves requests for the Azure
// hosts aksid impersonates with Handler directly, as if they had come
// through the proxy: aksid acting as a client of its own faces (a
// cluster's cloud provider calling Resource Manager) without a network
// hop, a listener or a certificate. Every other host is refused, as the
// proxy refuses it.
type InProcess struct {
	Handler http.Handler // the top-level router, wrapped in Middleware
}

// RoundTrip serves req and returns the recorded response.
func (t InProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	if AzureFace(host) == "" || (req.URL.Port() != "" && req.URL.Port() != "443") {
		return nil, fmt.Errorf("in-process transport: %s is not an Azure host aksid serves", req.URL.Host)
	}
	ctx := context.WithValue(req.Context(), tunnelKey, host)
	in := req.Clone(ctx)
	in.Host, in.RequestURI, in.RemoteAddr = req.URL.Host, req.URL.RequestURI(), "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := &recorder{header: http.Header{}}
	t.Handler.ServeHTTP(rec, in)
	if in.Body != nil {
		_ = in.Body.Close() // the transport owns the request body
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		Status: strconv.Itoa(status) + " " + http.StatusText(status), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req,
	}, nil
}

// recorder keeps a handler's response in memory; ARM's answers are small.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
