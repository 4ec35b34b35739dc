package e2e

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// verifyWithJWKS checks tok's RS256 signature against a JWKS document.
func verifyWithJWKS(t *testing.T, jwks []byte, tok string) error {
	t.Helper()
	parts := strings.Split(tok, ".")
	var hdr struct{ Kid string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &hdr); err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid != hdr.Kid {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	}
	return errNoKey(hdr.Kid)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type errNoKey string

func (e errNoKey) Error() string { return "no key " + string(e) + " in JWKS" }

// TestRestartKeepsState: a principal created before a restart still signs
// in, a wrong secret is refused before and after, and the JWKS still
// verifies a token issued before the restart.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	// The same port before and after: the issuer (and so Kubernetes'
	// configuration) names it.
	addr := []string{"--addr", freeAddr(t)}
	in := start(t, dir, addr...)
	sp := in.createSP("survivor")
	if st, m := in.rawToken(sp.AppID, "bad8Q~secret", aksServerApp+"/.default"); st != 401 || errorCode(m) != 7000215 {
		t.Fatalf("wrong secret before restart: %d %v", st, m)
	}
	st, m := in.rawToken(sp.AppID, sp.Password, aksServerApp+"/.default")
	if st != 200 {
		t.Fatalf("token before restart: %d %v", st, m)
	}
	before := m["access_token"].(string)
	in.stop()

	again := start(t, dir, addr...)
	if again.env["AKSID_ADMIN_CLIENT_SECRET"] != in.env["AKSID_ADMIN_CLIENT_SECRET"] {
		t.Fatal("bootstrap secret changed across restart")
	}
	if st, m := again.rawToken(sp.AppID, "bad8Q~secret", aksServerApp+"/.default"); st != 401 || errorCode(m) != 7000215 {
		t.Fatalf("wrong secret after restart: %d %v", st, m)
	}
	if st, m := again.rawToken(sp.AppID, sp.Password, aksServerApp+"/.default"); st != 200 {
		t.Fatalf("secret after restart: %d %v", st, m)
	}
	if err := verifyWithJWKS(t, again.jwks(context.Background()), before); err != nil {
		t.Fatalf("pre-restart token: %v", err)
	}
	authn := newKubeAuthenticator(t, again)
	authn.expectUser(t, before, claimsOf(t, before)["oid"].(string))
	for _, logs := range []string{in.logText(), again.logText()} {
		for _, secret := range []string{sp.Password, "bad8Q~secret", in.env["AKSID_ADMIN_CLIENT_SECRET"]} {
			if strings.Contains(logs, secret) {
				t.Fatal("a secret reached the log")
			}
		}
		if !strings.Contains(logs, "code=7000215") {
			t.Fatal("refusals are not logged")
		}
	}
}

// TestClockAdvanceExpiresSecrets: after `aksid clock advance 366d` a
// default (one-year) secret fails with AADSTS7000222, one created after
// the move works, and its tokens, stamped in wall time, still validate
// in azidentity and Kubernetes.
func TestClockAdvanceExpiresSecrets(t *testing.T) {
	in := start(t, "")
	old := in.createSP("one-year")
	if st, _ := in.rawToken(old.AppID, old.Password, armScope); st != 200 {
		t.Fatal("fresh secret refused")
	}
	out := aksidRun(t, "clock", "advance", "366d", "--data-dir", in.dataDir)
	var clk struct {
		Now, Wall time.Time
		Offset    string
	}
	if err := json.Unmarshal([]byte(out), &clk); err != nil || clk.Now.Sub(clk.Wall) < 365*24*time.Hour {
		t.Fatalf("clock advance: %s %v", out, err)
	}
	st, m := in.rawToken(old.AppID, old.Password, armScope)
	if st != 401 || errorCode(m) != 7000222 || m["error"] != "invalid_client" {
		t.Fatalf("expired secret: %d %v", st, m)
	}
	fresh := in.createSP("after-the-move")
	cred := in.secretCredential(t, fresh.AppID, fresh.Password)
	tok := getToken(t, cred, aksServerApp+"/.default")
	if d := time.Until(tok.ExpiresOn); d < 55*time.Minute || d > 2*time.Hour {
		t.Fatalf("token expiry %v is not in the wall frame", tok.ExpiresOn)
	}
	authn := newKubeAuthenticator(t, in)
	authn.expectUser(t, tok.Token, claimsOf(t, tok.Token)["oid"].(string))

	// The move persists, and reset puts the clock back.
	if got := aksidRun(t, "clock", "show", "--data-dir", in.dataDir); !strings.Contains(got, `"offset": "8784h0m0s"`) {
		t.Fatalf("clock show: %s", got)
	}
	aksidRun(t, "clock", "reset", "--data-dir", in.dataDir)
	if st, _ := in.rawToken(old.AppID, old.Password, armScope); st != 200 {
		t.Fatal("secret still refused after clock reset")
	}
}

// TestTwoProcessesRotateKeysOnOneStore: two aksid processes on one data
// directory rotate every two seconds; each always publishes the key the
// other signs with, and neither logs a rotation error.
func TestTwoProcessesRotateKeysOnOneStore(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--key-rotation", "2s", "--refresh", "300ms"}
	a := start(t, dir, args...)
	b := start(t, dir, args...)
	sp := a.createSP("rotator")
	ctx := context.Background()
	kids := map[string]bool{}
	deadline := time.Now().Add(9 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		for _, pair := range [][2]*instance{{a, b}, {b, a}} {
			st, m := pair[0].rawToken(sp.AppID, sp.Password, aksServerApp+"/.default")
			if st != 200 {
				t.Fatalf("token: %d %v", st, m)
			}
			tok := m["access_token"].(string)
			if err := verifyWithJWKS(t, pair[1].jwks(ctx), tok); err != nil {
				t.Fatalf("a token from one replica does not verify with the other's JWKS: %v", err)
			}
			var hdr struct{ Kid string }
			hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			_ = json.Unmarshal(hb, &hdr)
			kids[hdr.Kid] = true
			n++
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(kids) < 3 {
		t.Fatalf("only %d signing keys seen over %d tokens: rotation did not happen", len(kids), n)
	}
	for _, in := range []*instance{a, b} {
		if logs := in.logText(); strings.Contains(logs, "level=ERROR") {
			t.Fatalf("replica logged errors:\n%s", logs)
		}
	}
}
