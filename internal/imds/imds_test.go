package imds

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

	"github.com/aksid/aksid/internal/hosts"
)

// brokenHosts fails every lookup with an error the face does not know.
type brokenHosts struct{ Hosts }

func (brokenHosts) BySecret(context.Context, string) (hosts.Host, error) {
	return hosts.Host{}, errors.New("store down")
}

// TestInternalErrorLogsCause: a 500 logs its cause with the request ID
// the server middleware gave the response.
func TestInternalErrorLogsCause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := facetest.WithRequestID(New(brokenHosts{}, nil, log).AppService())
	req := httptest.NewRequest("GET", AppServicePath+"?api-version=2019-08-01&resource=x", nil)
	req.Header.Set("X-IDENTITY-HEADER", "secret")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	id := rec.Header().Get("x-ms-request-id")
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "store down") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), `request_id=`+id+` err="store down"`) {
		t.Fatalf("no log of the cause under request %s:\n%s", id, logs.String())
	}
}
