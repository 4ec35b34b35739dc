package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/store/postgres/pgtest"
)

// pg is the throwaway PostgreSQL the replica tests share, started on first
// need and stopped by TestMain.
var pg struct {
	once sync.Once
	s    *pgtest.Server
	err  error
}

func postgresURL(t *testing.T) string {
	t.Helper()
	pg.once.Do(func() { pg.s, pg.err = pgtest.Start() })
	if pg.err != nil {
		t.Fatal(pg.err)
	}
	url, err := pg.s.NewDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

func stopPostgres() {
	if pg.s != nil {
		pg.s.Stop()
	}
}

// TestReplicasOnPostgres: two aksid replicas on one PostgreSQL and one data
// directory (its master key and CA) publish the same keys, and a principal
// made through one signs in on the other; a replica with another master
// key refuses to start, saying why.
func TestReplicasOnPostgres(t *testing.T) {
	url := postgresURL(t)
	dataDir := t.TempDir()
	a := start(t, dataDir, "--store", url)
	b := start(t, dataDir, "--store", url)
	if a.url == b.url {
		t.Fatal("the replicas share an address")
	}
	ctx := t.Context()
	if ja, jb := a.jwks(ctx), b.jwks(ctx); !bytes.Equal(ja, jb) || !bytes.Contains(ja, []byte(`"kid"`)) {
		t.Fatalf("the replicas publish different keys:\n%s\n%s", ja, jb)
	}
	// The CLI reaches the newest server (b); the principal signs in on a.
	sp := b.createSP("replicated")
	for _, in := range []*instance{a, b} {
		if st, m := in.rawToken(sp.AppID, sp.Password, armScope); st != 200 {
			t.Fatalf("%s: token for a principal made on the other replica: %d %v", in.url, st, m)
		}
		if st, m := in.rawToken(sp.AppID, "wrong"+sp.Password, armScope); st != 401 || errorCode(m) != 7000215 {
			t.Fatalf("%s: a wrong secret: %d %v", in.url, st, m)
		}
	}
	// A token one replica signed verifies with the other's JWKS.
	st, m := a.rawToken(sp.AppID, sp.Password, armScope)
	if st != 200 {
		t.Fatal(m)
	}
	if err := verifyWithJWKS(t, b.jwks(ctx), m["access_token"].(string)); err != nil {
		t.Fatal(err)
	}

	// A secret reset on one replica holds on the other at its very next
	// request, though the other has the client in its cache.
	graphTok := a.adminToken(t, "https://graph.microsoft.com/.default")
	var app struct {
		Value []struct{ ID string } `json:"value"`
	}
	if err := try(a, graphTok, "GET", "/v1.0/applications?$filter=appId%20eq%20'"+sp.AppID+"'", nil, 200, &app); err != nil || len(app.Value) != 1 {
		t.Fatalf("application of %s: %v %+v", sp.AppID, err, app)
	}
	var creds struct {
		PasswordCredentials []struct{ KeyID string } `json:"passwordCredentials"`
	}
	if err := try(a, graphTok, "GET", "/v1.0/applications/"+app.Value[0].ID, nil, 200, &creds); err != nil || len(creds.PasswordCredentials) != 1 {
		t.Fatalf("credentials: %v %+v", err, creds)
	}
	var fresh struct{ SecretText string }
	if err := try(a, graphTok, "POST", "/v1.0/applications/"+app.Value[0].ID+"/addPassword", map[string]any{}, 200, &fresh); err != nil {
		t.Fatal(err)
	}
	if err := try(a, graphTok, "POST", "/v1.0/applications/"+app.Value[0].ID+"/removePassword",
		map[string]any{"keyId": creds.PasswordCredentials[0].KeyID}, 204, nil); err != nil {
		t.Fatal(err)
	}
	if st, m := b.rawToken(sp.AppID, sp.Password, armScope); st != 401 || errorCode(m) != 7000215 {
		t.Fatalf("the old secret on the other replica right after its removal: %d %v", st, m)
	}
	if st, m := b.rawToken(sp.AppID, fresh.SecretText, armScope); st != 200 {
		t.Fatalf("the new secret on the other replica: %d %v", st, m)
	}

	// Another data directory means another master key: refused.
	other := exec.Command(aksidBin, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--store", url)
	done := make(chan []byte, 1)
	go func() { out, _ := other.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		if other.ProcessState.Success() || !strings.Contains(string(out), "another master key") {
			t.Fatalf("a replica with another master key: %v\n%s", other.ProcessState, out)
		}
	case <-time.After(30 * time.Second):
		_ = other.Process.Kill()
		t.Fatal("a replica with another master key started")
	}
}
