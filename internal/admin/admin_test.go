package admin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/facetest"
)

// failingOps fails HostEnv with an error the face does not know; the
// other operations are not called.
type failingOps struct {
	Ops[struct{}, struct{}]
	err error
}

func (f failingOps) HostEnv(context.Context, string) (HostEnv, error) { return HostEnv{}, f.err }

// TestInternalErrorLogsCause: a 500 from the admin face logs its cause
// with the request ID the server middleware gave the response, and the
// body carries the ID but not the cause.
func TestInternalErrorLogsCause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	mux := http.NewServeMux()
	Register(mux, failingOps{err: errors.New("disk on fire")}, "tok", log)
	srv := httptest.NewServer(facetest.WithRequestID(mux))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/aksid/admin/hosts/env", strings.NewReader(`{"name":"vm1"}`))
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("x-ms-request-id")
	if resp.StatusCode != http.StatusInternalServerError || id == "" {
		t.Fatalf("%d, request id %q", resp.StatusCode, id)
	}
	if strings.Contains(string(body), "disk on fire") || !strings.Contains(string(body), id) {
		t.Errorf("body %s", body)
	}
	var cause string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "disk on fire") {
			cause = line
		}
	}
	if !strings.Contains(cause, "request_id="+id) || !strings.Contains(cause, "level=ERROR") {
		t.Fatalf("no error line with the cause and request id %s:\n%s", id, logs.String())
	}
}
