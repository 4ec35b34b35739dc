package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/store"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestClusterIssuerKeyIsSealedAndKept: a cluster issuer's signing key is
// stored only sealed by the master key, and survives a restart: the same
// published key, tokens minted before still verify after.
func TestClusterIssuerKeyIsSealedAndKept(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func() *testServer {
		r, err := Start(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, r.CAPath)}}
		return &testServer{Running: r, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	}
	s := run()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	tok := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	for _, c := range []struct{ method, path, body string }{
		{"PUT", sub + "/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`},
		{"POST", sub + "/providers/Microsoft.ContainerService/register?api-version=2021-04-01", ""},
		{"PUT", sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c?api-version=2023-08-01",
			`{"location":"westus2","properties":{"dnsPrefix":"c","oidcIssuerProfile":{"enabled":true}}}`},
	} {
		if st, _, raw := s.arm(t, tok, c.method, c.path, c.body); st >= 300 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, st, raw)
		}
	}
	clusterID := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
	var raw []byte
	if err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		raw, err = tx.Get("aks_cluster", strings.ToLower(clusterID))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		OIDCKey []byte `json:"sealedOidcKey"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil || len(rec.OIDCKey) == 0 {
		t.Fatalf("no sealed key in the record: %v", err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(rec.OIDCKey); err == nil || strings.Contains(string(raw), "PRIVATE KEY") {
		t.Fatal("the issuer key is stored in clear")
	}
	req := admin.SATokenRequest{ClusterID: clusterID, Namespace: "default", ServiceAccount: "sa"}
	before, err := s.Ops.ServiceAccountToken(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	keys1, err := s.Ops.clusters.aks.Issuer(ctx, s.Creds.TenantID, issuerGUID(before.Issuer))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	s = run()
	defer s.Shutdown(ctx)
	keys2, err := s.Ops.clusters.aks.Issuer(ctx, s.Creds.TenantID, issuerGUID(before.Issuer))
	if err != nil {
		t.Fatal(err)
	}
	if keys1.Issuer != keys2.Issuer || len(keys2.Keys.Keys) != 1 || keys1.Keys.Keys[0].KeyID != keys2.Keys.Keys[0].KeyID {
		t.Fatalf("issuer changed across restart: %+v vs %+v", keys1, keys2)
	}
	// The pre-restart token verifies with the post-restart key.
	after, err := s.Ops.ServiceAccountToken(ctx, req)
	if err != nil || after.Issuer != before.Issuer {
		t.Fatalf("after restart: %v %+v", err, after)
	}
	if err := verifyWith(keys2, before.Token); err != nil {
		t.Fatalf("pre-restart token: %v", err)
	}
}

func issuerGUID(issuer string) string {
	segs := strings.Split(strings.Trim(issuer, "/"), "/")
	return segs[len(segs)-1]
}

func verifyWith(iss aks.OIDCIssuer, token string) error {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	var c jwt.Claims
	if err := tok.Claims(iss.Keys.Keys[0].Key, &c); err != nil {
		return err
	}
	if c.Issuer != iss.Issuer {
		return fmt.Errorf("iss %s", c.Issuer)
	}
	return nil
}
