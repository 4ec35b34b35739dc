package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIssuerFetcherStaysOffline: issuer documents are read over https
// only, from loopback or aksid's own hosts, never through a redirect,
// within a size limit.
func TestIssuerFetcherStaysOffline(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doc":
			_, _ = w.Write([]byte(`{"ok":true}`))
		case "/redirect":
			http.Redirect(w, r, "/doc", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", maxIssuerDocument+1)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := newIssuerFetcher(srv.Certificate())
	ctx := context.Background()
	if b, err := f.Fetch(ctx, srv.URL+"/doc"); err != nil || string(b) != `{"ok":true}` {
		t.Fatalf("loopback https: %q %v", b, err)
	}
	for _, u := range []string{
		strings.Replace(srv.URL, "https://", "http://", 1) + "/doc",                   // not https
		"https://issuer.example.com/.well-known/openid-configuration",                 // not loopback: never dialled
		"https://westus2.oic.prod-aks.azure.com/t/i/.well-known/openid-configuration", // aksid's host, but no in-process transport
		srv.URL + "/redirect", srv.URL + "/big", srv.URL + "/missing", "https://user@127.0.0.1/x", "::",
	} {
		if _, err := f.Fetch(ctx, u); err == nil {
			t.Errorf("fetched %s", u)
		}
	}
}
