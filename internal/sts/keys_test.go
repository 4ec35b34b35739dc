package sts

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/rsasign"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func jwksKids(t *testing.T, k *Keys) map[string]bool {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, Kty, Use, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(k.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, key := range set.Keys {
		if key.Kty != "RSA" || key.Use != "sig" || key.N == "" || key.E != "AQAB" {
			t.Fatalf("jwk %+v", key)
		}
		out[key.Kid] = true
	}
	return out
}

func TestRotationKeepsOldKeyUntilItsTokensExpire(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	form := e.secretForm(directory.AKSServerApp+"/.default", V2)
	resp, err := e.svc.Token(ctx, e.request(V2, testTenant, form))
	if err != nil {
		t.Fatal(err)
	}
	oldKid := e.keys.CurrentKID()
	next := func() string {
		for kid := range jwksKids(t, e.keys) {
			if kid != oldKid {
				return kid
			}
		}
		return ""
	}()
	if next == "" {
		t.Fatal("the next key is not published ahead of use")
	}
	e.wall.Add(61 * time.Minute) // past the one-hour period
	if rotated, err := e.keys.RotateIfDue(ctx); err != nil || !rotated {
		t.Fatalf("rotation: %v %v", rotated, err)
	}
	if e.keys.CurrentKID() != next || !jwksKids(t, e.keys)[oldKid] {
		t.Fatal("after rotation the next key must sign and the old one stay published")
	}
	e.claims(resp.AccessToken) // the pre-rotation token still verifies
	// Once every token the old key signed has expired, the next rotation drops it.
	e.wall.Add(MaxTokenLifetime)
	if _, err := e.keys.RotateIfDue(ctx); err != nil {
		t.Fatal(err)
	}
	if jwksKids(t, e.keys)[oldKid] {
		t.Fatal("expired key still published")
	}
	if n := len(jwksKids(t, e.keys)); n < 2 || n > 3 {
		t.Fatalf("jwks holds %d keys", n)
	}
}

func TestConcurrentReplicasRotateOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Replicas share the store and the master key (e's sealer).
	replicas := []*Keys{e.keys, NewKeys(e.st, e.keys.seal, e.wall, e.keys.opts), NewKeys(e.st, e.keys.seal, e.wall, e.keys.opts)}
	for _, r := range replicas[1:] {
		if err := r.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := e.keys.read(ctx)
	e.wall.Add(2 * time.Hour)
	var wg sync.WaitGroup
	rotations := make(chan bool, len(replicas))
	for _, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := r.RotateIfDue(ctx)
			if err != nil {
				t.Error(err)
			}
			rotations <- ok
		}()
	}
	wg.Wait()
	close(rotations)
	n := 0
	for ok := range rotations {
		if ok {
			n++
		}
	}
	after, _ := e.keys.read(ctx)
	if n != 1 || after.Generation != before.Generation+1 {
		t.Fatalf("%d rotations, generation %d → %d", n, before.Generation, after.Generation)
	}
	for _, r := range replicas {
		if err := r.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if r.CurrentKID() != e.keys.CurrentKID() {
			t.Fatal("replicas disagree on the signing key")
		}
	}
}

// Replicas signing with different RSA backends publish the same JWKS and
// issue the same bytes for the same claims: which backend signs is
// invisible to clients.
func TestBackendsSignAlike(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := rsasign.Choose("auto")
	if err != nil {
		t.Fatal(err)
	}
	var tokens, jwks []string
	for _, b := range []rsasign.Backend{rsasign.Go, c.Backend} {
		opts := e.keys.opts
		opts.Backend = b
		k := NewKeys(e.st, e.keys.seal, e.wall, opts)
		if err := k.Load(ctx); err != nil {
			t.Fatal(err)
		}
		tok, err := k.Sign([]byte(`{"aud":"https://management.azure.com/","sub":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		// Go's verifier accepts what either backend signed.
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		pub, ok := k.VerifyKey(ctx, parsed.Headers[0].KeyID)
		if !ok {
			t.Fatalf("%s: kid %q not published", b, parsed.Headers[0].KeyID)
		}
		var claims map[string]any
		if err := parsed.Claims(pub, &claims); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		tokens, jwks = append(tokens, tok), append(jwks, string(k.JWKS()))
	}
	t.Logf("compared go with %s", c)
	if tokens[0] != tokens[1] || jwks[0] != jwks[1] {
		t.Fatalf("the backends differ:\n%s\n%s", tokens[0], tokens[1])
	}
}
