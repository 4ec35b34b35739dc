package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aksid/aksid/internal/server"
)

// maxIssuerDocument bounds an outside issuer's discovery document or JWKS.
const maxIssuerDocument = 1 << 20

// issuerFetcher reads federated-credential issuers' documents for the
// token service. Issuers aksid serves itself (AKS cluster issuers, its own
// login hosts) are read in process; other issuers only on loopback, over
// https trusting the system roots and aksid's CA: aksid is offline, and a
// token service that fetched any URL an assertion names would let its
// callers probe the network.
type issuerFetcher struct {
	inProcess http.RoundTripper // set once the router exists
	// loopback is made on first use: parsing the system roots costs a few
	// megabytes that a server with no outside issuer should not carry.
	loopback func() *http.Client
}

func newIssuerFetcher(ca *x509.Certificate) *issuerFetcher {
	return &issuerFetcher{loopback: sync.OnceValue(func() *http.Client {
		roots, err := x509.SystemCertPool() // a copy: adding to it is local
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		roots.AddCert(ca)
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext, ResponseHeaderTimeout: 10 * time.Second}
		return &http.Client{Transport: tr, Timeout: 15 * time.Second, CheckRedirect: noRedirects}
	})}
}

func noRedirects(*http.Request, []*http.Request) error {
	return errors.New("issuer documents are not followed through redirects")
}

// Fetch reads one issuer document.
func (f *issuerFetcher) Fetch(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("issuer URL %q is not an https URL", raw)
	}
	var client *http.Client
	host := strings.ToLower(u.Hostname())
	switch {
	case server.AzureFace(host) != "" && f.inProcess != nil:
		client = &http.Client{Transport: f.inProcess, Timeout: 15 * time.Second, CheckRedirect: noRedirects}
	case !server.IsLoopbackName(host):
		return nil, fmt.Errorf("issuer host %s is not reachable from offline aksid", host)
	default:
		client = f.loopback()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("issuer document %s: HTTP %d", raw, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxIssuerDocument+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxIssuerDocument {
		return nil, fmt.Errorf("issuer document %s is larger than %d bytes", raw, maxIssuerDocument)
	}
	return b, nil
}
