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

	"github.com/aksid/aksid/internal/facetest"

	"github.com/aksid/aksid/internal/aks"
)

type brokenIssuers struct{}

func (brokenIssuers) Issuer(context.Context, string, string) (aks.OIDCIssuer, error) {
	return aks.OIDCIssuer{}, errors.New("store down")
}

// TestInternalErrorLogsCause: a 500 logs its cause with the request ID
// the server middleware gave the response.
func TestInternalErrorLogsCause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := facetest.WithRequestID(New(brokenIssuers{}, func(*http.Request) string { return "" }, log))
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
