package oidcissuer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/aks"
)

type brokenIssuers struct{}

func (brokenIssuers) Issuer(context.Context, string, string) (aks.OIDCIssuer, error) {
	return aks.OIDCIssuer{}, errors.New("store down")
}

// withRequestID stands in for the server middleware (faces do not import
// the listener): it gives the response its x-ms-request-id.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-request-id", "f00dfeed-0000-4000-8000-000000000001")
		h.ServeHTTP(w, r)
	})
}

// TestInternalErrorLogsCause: a 500 logs its cause with the request ID
// the server middleware gave the response.
func TestInternalErrorLogsCause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := withRequestID(New(brokenIssuers{}, func(*http.Request) string { return "" }, log))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/t/i/.well-known/openid-configuration", nil))
	id := rec.Header().Get("x-ms-request-id")
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "store down") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), `request_id=`+id+` err="store down"`) {
		t.Fatalf("no log of the cause under request %s:\n%s", id, logs.String())
	}
}
