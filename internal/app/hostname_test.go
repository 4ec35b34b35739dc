package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHostEnvRefusesBadNames: `aksid host env` with a name that is neither
// a VM's nor "<group>/<cluster>" is a 400 naming the rule, not a 500.
func TestHostEnvRefusesBadNames(t *testing.T) {
	var logs syncBuffer
	r, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), InMemory: true,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	kr, err := r.DataDir.ExistingKeyring()
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, r.CAPath)}}}
	for _, name := range []string{"x/y/z", "/x", "rg/", "vm.", "-vm", "rg/c_", "a b", strings.Repeat("v", 65)} {
		req, _ := http.NewRequest("POST", r.URL+"/aksid/admin/hosts/env", strings.NewReader(`{"name":"`+name+`"}`))
		req.Header.Set("Authorization", "Bearer "+adminToken(kr))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "InvalidResourceName") {
			t.Errorf("%q: %d %s", name, resp.StatusCode, b)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a refusal logged as an error:\n%s", logs.String())
	}
}
