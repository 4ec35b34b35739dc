package server

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// selfSigned mints throwaway certificates (a stand-in for aksid's CA).
type selfSigned struct{}

func (selfSigned) Leaf(hosts []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

var (
	plainOnce sync.Once
	plainAddr string
	tlsAddr   string
)

// plainProxy starts one server with a plain-HTTP proxy port for the
// whole test binary; its handler answers 200 to whatever reaches a face.
func plainProxy(t testing.TB) string {
	plainOnce.Do(func() {
		cert, err := selfSigned{}.Leaf([]string{"127.0.0.1"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
		router := NewRouter(h, "https://127.0.0.1:8443")
		router.HandleFace(FaceLogin, h) // what tunnels to login.microsoftonline.com reach
		s := NewServer(router, cert, selfSigned{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go s.ServePlain(ln)
		go func() { _ = s.Serve(tlsLn) }()
		plainAddr, tlsAddr = ln.Addr().String(), tlsLn.Addr().String()
	})
	return plainAddr
}

// exchange sends raw bytes to the plain proxy port and reads the answer.
func exchange(t testing.TB, raw []byte) (*http.Response, error) {
	c, err := net.DialTimeout("tcp", plainProxy(t), 2*time.Second)
	if err != nil {
		t.Fatalf("the proxy stopped accepting: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(raw); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
	}
	return resp, err
}

func TestPlainProxyAnswers(t *testing.T) {
	cases := []struct {
		raw    string
		status int
	}{
		{"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 403},
		{"CONNECT login.microsoftonline.com HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n", 400},
		{"CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n\r\n", 200},
		{"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", 403},
		{"GET https://management.azure.com/ HTTP/1.1\r\nHost: management.azure.com\r\n\r\n", 403},
		{"GET http://169.254.169.254/metadata/identity/oauth2/token HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n", 404}, // no IMDS face routed here
		{"GET /subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400},
		{"GET /msi/token?api-version=2019-08-01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200}, // App Service's IDENTITY_ENDPOINT is served here
		{"GET /msi/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: " + string(bytes.Repeat([]byte("a"), 70<<10)) + "\r\n\r\n", 431},
		{"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 400}, // not a proxy request on the proxy port
	}
	for _, c := range cases {
		resp, err := exchange(t, []byte(c.raw))
		if err != nil || resp.StatusCode != c.status {
			t.Errorf("%.60q: %v %v, want %d", c.raw, resp, err, c.status)
		}
	}
	// A refused tunnel says why in its status line, all az (urllib) and Go
	// clients show of it.
	if resp, err := exchange(t, []byte(cases[0].raw)); err != nil || !strings.Contains(resp.Status, "refusing to connect to example.com:443") {
		t.Errorf("refused CONNECT's status line: %v %v", resp, err)
	}
	// A request line too short to tell HTTP/1.1 from HTTP/2 waits for more
	// bytes and is closed by the read timeout: never answered 5xx.
	if resp, err := exchange(t, []byte("BREW\r\n\r\n")); err == nil && resp.StatusCode >= 500 {
		t.Errorf("short garbage answered %d", resp.StatusCode)
	}
}

// FuzzProxyRequest parses arbitrary bytes as a request, as the listener
// does, and runs the proxy's handling on it: no panic, no 5xx, and no
// request for a host other than Azure's reaches a face.
func FuzzProxyRequest(f *testing.F) {
	for _, s := range []string{
		"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		"CONNECT login.microsoftonline.com:443 HTTP/1.1\r\n\r\n",
		"GET http://169.254.169.254/metadata/identity/oauth2/token?resource=x HTTP/1.1\r\nMetadata: true\r\n\r\n",
		"GET http://[::1]:80/ HTTP/1.1\r\nHost: [::1]\r\n\r\n",
		"CONNECT [::1]:443 HTTP/1.1\r\n\r\n",
		"GET https://graph.microsoft.com/v1.0/me HTTP/1.1\r\nHost: graph.microsoft.com\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		f.Add([]byte(s))
	}
	p := &Proxy{ca: selfSigned{}, conns: &connListener{conns: make(chan net.Conn), done: make(chan struct{})},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), leafs: map[string]*tls.Certificate{}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // the server answers 400 before any handler runs
		}
		reached := false
		face := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = true
			if r.URL.IsAbs() && r.URL.Hostname() != imdsHost {
				t.Fatalf("%q reached a face for %s", raw, r.URL.Host)
			}
		})
		rec := httptest.NewRecorder()
		p.handle(face).ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q answered %d", raw, rec.Code)
		}
		if req.Method == http.MethodConnect && reached {
			t.Fatalf("CONNECT reached a face: %q", raw)
		}
	})
}
