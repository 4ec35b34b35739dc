package aks

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestRotateServiceAccountSigningKeysKeepsTheOldKeyADay: az aks oidc-issuer
// rotate-signing-keys makes a new key sign; the issuer publishes the old
// one beside it, and the API server is given it, for 24 hours on aksid's
// clock, so a token signed before still verifies; then it goes. Rotating
// twice drops the first key at once. A cluster without an issuer refuses.
func TestRotateServiceAccountSigningKeysKeepsTheOldKeyADay(t *testing.T) {
	ctx := context.Background()
	s, clk := sealingService(t)
	id := clusterID("s", "rg", "c")
	r := record{TenantID: "t", Model: map[string]any{"id": id, "name": "c", "location": "westus2",
		"properties": map[string]any{"provisioningState": "Succeeded", "fqdn": "c-1.hcp.westus2.azmk8s.io"}}}
	props := obj(r.Model, "properties")
	if err := s.applyOIDC(&r, "westus2", props, map[string]any{"oidcIssuerProfile": map[string]any{"enabled": true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.save(ctx, id, r); err != nil {
		t.Fatal(err)
	}
	kids := func() []string {
		t.Helper()
		iss, err := s.Issuer(ctx, "t", r.OIDCIssuerID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range iss.Keys.Keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	token := func() (string, string) {
		t.Helper()
		tok, err := s.ServiceAccountToken(ctx, SATokenRequest{ClusterID: id, Namespace: "default", ServiceAccount: "app"})
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		return tok, parsed.Headers[0].KeyID
	}
	verifies := func(tok string) bool {
		iss, err := s.Issuer(ctx, "t", r.OIDCIssuerID)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		var c jwt.Claims
		return parsed.Claims(iss.Keys, &c) == nil
	}
	spec := func() KubeSpec {
		t.Helper()
		k, err := s.KubeSpec(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	tok1, kid1 := token()
	v1 := spec().KeysVersion
	if got := kids(); !slices.Equal(got, []string{kid1}) {
		t.Fatalf("keys before rotation: %v, want [%s]", got, kid1)
	}
	if err := s.RotateServiceAccountSigningKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	tok2, kid2 := token()
	if kid2 == kid1 {
		t.Fatal("the token after rotation is signed by the old key")
	}
	if got := kids(); !slices.Equal(got, []string{kid2, kid1}) {
		t.Fatalf("keys after rotation: %v, want [%s %s]", got, kid2, kid1)
	}
	if !verifies(tok1) || !verifies(tok2) {
		t.Fatal("a token of either key does not verify against the issuer's keys")
	}
	k := spec()
	if len(k.PreviousKeys) != 1 || k.KeysVersion == v1 {
		t.Fatalf("the API server's keys after rotation: %d previous, version %s (was %s)", len(k.PreviousKeys), k.KeysVersion, v1)
	}
	v2 := k.KeysVersion

	clk.SetOffset(previousKeyLife - time.Second)
	if got := kids(); len(got) != 2 {
		t.Fatalf("keys a second before a day has passed: %v", got)
	}
	clk.SetOffset(previousKeyLife)
	if got := kids(); !slices.Equal(got, []string{kid2}) || verifies(tok1) {
		t.Fatalf("keys after a day: %v (the old key's token verifies: %v)", got, verifies(tok1))
	}
	if k := spec(); len(k.PreviousKeys) != 0 || k.KeysVersion == v2 {
		t.Fatalf("the API server's keys after a day: %d previous, version unchanged %v", len(k.PreviousKeys), k.KeysVersion == v2)
	}

	// Twice in a row: only the two newest keys are valid.
	if err := s.RotateServiceAccountSigningKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, kid3 := token()
	if err := s.RotateServiceAccountSigningKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, kid4 := token()
	if got := kids(); !slices.Equal(got, []string{kid4, kid3}) {
		t.Fatalf("keys after two rotations: %v, want [%s %s]", got, kid4, kid3)
	}

	plain := clusterID("s", "rg", "plain")
	if err := s.save(ctx, plain, record{TenantID: "t", Model: map[string]any{"id": plain, "name": "plain", "location": "westus2",
		"properties": map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	if e, ok := azerr.As(s.RotateServiceAccountSigningKeys(ctx, plain)); !ok || e.Kind != azerr.Invalid || e.Code != "OperationNotAllowed" {
		t.Fatalf("rotation without an issuer: %v", e)
	}
}
