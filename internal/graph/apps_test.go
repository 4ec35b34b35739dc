package graph_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// azDate is az's _datetime_to_utc: seconds, literal Z.
func azDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// TestCreateForRBACAsAzDoes replays `az ad sp create-for-rbac --name N`
// (role/custom.py in az 2.45), then its idempotent second run, and signs
// in with the secret it got.
func TestCreateForRBACAsAzDoes(t *testing.T) {
	s := start(t)
	adm := s.admin
	name := "http://rbac-test"

	if r := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("displayName eq '"+name+"'"), nil); len(r.values()) != 0 {
		t.Fatalf("unexpected principals: %s", r.raw)
	}
	s.must(t, 200, adm, "GET", "/v1.0/applications"+filter("startswith(displayName,'"+name+"')"), nil)
	created := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": name, "keyCredentials": []any{}})
	objID, appID := created.str("id"), created.str("appId")
	if objID == "" || appID == "" || objID == appID || !strings.HasSuffix(created.str("@odata.context"), "/v1.0/$metadata#applications/$entity") {
		t.Fatalf("created %s", created.raw)
	}
	if pcs, _ := created.m["passwordCredentials"].([]any); pcs == nil || len(pcs) != 0 {
		t.Fatalf("passwordCredentials %v", created.m["passwordCredentials"])
	}
	if created.header.Get("Location") == "" {
		t.Fatal("no Location on 201")
	}
	now := time.Now()
	pw := s.must(t, 200, adm, "POST", "/v1.0/applications/"+objID+"/addPassword", map[string]any{"passwordCredential": map[string]any{
		"displayName": "rbac", "startDateTime": azDate(now), "endDateTime": azDate(now.AddDate(1, 0, 0))}})
	secret := pw.str("secretText")
	if len(secret) != 40 || pw.str("hint") != secret[:3] || pw.str("keyId") == "" || pw.str("displayName") != "rbac" {
		t.Fatalf("addPassword %s", pw.raw)
	}
	sp := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": appID, "accountEnabled": true})
	if sp.str("appId") != appID || sp.str("id") == "" || sp.str("servicePrincipalType") != "Application" {
		t.Fatalf("servicePrincipal %s", sp.raw)
	}
	s.must(t, 409, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": appID})

	// The new principal signs in with its secret and may read Graph.
	spTok := s.token(t, appID, secret, "https://graph.microsoft.com/.default")
	s.must(t, 200, spTok, "GET", "/v1.0/applications/"+objID, nil)

	// The same command again: the lookups, an appId filter with the
	// object ID (empty list, not an error), PATCH, GET, removePassword for
	// each secret, addPassword.
	byName := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("displayName eq '"+name+"'"), nil)
	if v := byName.values(); len(v) != 1 || v[0]["id"] != sp.str("id") {
		t.Fatalf("principal by name %s", byName.raw)
	}
	if v := s.must(t, 200, adm, "GET", "/v1.0/applications"+filter("startswith(displayName,'"+name+"')"), nil).values(); len(v) != 1 {
		t.Fatalf("startswith found %d", len(v))
	}
	if v := s.must(t, 200, adm, "GET", "/v1.0/applications"+filter("appId eq '"+objID+"'"), nil).values(); len(v) != 0 {
		t.Fatalf("appId eq objectId matched %d", len(v))
	}
	if r := s.must(t, 204, adm, "PATCH", "/v1.0/applications/"+objID, map[string]any{"displayName": name}); r.raw != "" {
		t.Fatalf("PATCH body %q", r.raw)
	}
	app := s.must(t, 200, adm, "GET", "/v1.0/applications/"+objID, nil)
	for _, pc := range app.m["passwordCredentials"].([]any) {
		cred := pc.(map[string]any)
		if cred["secretText"] != nil {
			t.Fatal("secretText shown after addPassword")
		}
		s.must(t, 204, adm, "POST", "/v1.0/applications/"+objID+"/removePassword", map[string]any{"keyId": cred["keyId"]})
	}
	pw2 := s.must(t, 200, adm, "POST", "/v1.0/applications/"+objID+"/addPassword", map[string]any{"passwordCredential": map[string]any{
		"displayName": "rbac", "startDateTime": azDate(now), "endDateTime": azDate(now.AddDate(1, 0, 0))}})
	if got := s.must(t, 200, adm, "GET", "/v1.0/applications/"+objID, nil).m["passwordCredentials"].([]any); len(got) != 1 {
		t.Fatalf("%d passwords after reset", len(got))
	}
	s.token(t, appID, pw2.str("secretText"), "https://graph.microsoft.com/.default")

	// `az ad sp delete --id APPID` resolves by servicePrincipalNames.
	bySPN := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("servicePrincipalNames/any(c:c eq '"+appID+"')"), nil)
	if v := bySPN.values(); len(v) != 1 || v[0]["id"] != sp.str("id") {
		t.Fatalf("by SPN %s", bySPN.raw)
	}
	// Key-addressed form used by newer SDKs.
	if r := s.must(t, 200, adm, "GET", "/v1.0/applications(appId='"+appID+"')", nil); r.str("id") != objID {
		t.Fatalf("applications(appId=) %s", r.raw)
	}
}

func TestFiltersPatchAndPaging(t *testing.T) {
	s := start(t)
	adm := s.admin
	var ids []string
	for _, n := range []string{"alpha one", "alpha two", "beta"} {
		r := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": n,
			"identifierUris": []string{"api://" + strings.ReplaceAll(n, " ", "-")}, "web": map[string]any{"redirectUris": []string{"https://x.test/cb"}}})
		ids = append(ids, r.str("id"))
	}
	count := func(f string) int {
		return len(s.must(t, 200, adm, "GET", "/v1.0/applications"+filter(f), nil).values())
	}
	for f, want := range map[string]int{
		"startswith(displayName,'alpha')":               2,
		"displayName eq 'BETA'":                         1,
		"identifierUris/any(x:x eq 'api://alpha-two')":  1,
		"identifierUris/any(s:s eq 'api://nope')":       0,
		"displayName eq 'beta' or displayName eq 'zzz'": 1,
	} {
		if got := count(f); got != want {
			t.Errorf("%s: %d, want %d", f, got, want)
		}
	}
	// Opaque properties round-trip; PATCH replaces them and the URIs.
	s.must(t, 204, adm, "PATCH", "/v1.0/applications/"+ids[2], map[string]any{"identifierUris": []string{"api://gamma"},
		"web": map[string]any{"redirectUris": []string{"https://y.test/cb"}}, "api": map[string]any{"requestedAccessTokenVersion": 2}})
	got := s.must(t, 200, adm, "GET", "/v1.0/applications/"+ids[2], nil)
	web, _ := got.m["web"].(map[string]any)
	api, _ := got.m["api"].(map[string]any)
	if uris := got.m["identifierUris"].([]any); len(uris) != 1 || uris[0] != "api://gamma" || web["redirectUris"].([]any)[0] != "https://y.test/cb" || api["requestedAccessTokenVersion"] != 2.0 {
		t.Fatalf("after PATCH %s", got.raw)
	}
	if count("identifierUris/any(s:s eq 'api://beta')") != 0 || count("identifierUris/any(s:s eq 'api://gamma')") != 1 {
		t.Fatal("URI filter after PATCH")
	}
	// A URI another application holds is refused, and nothing changes.
	r := s.must(t, 400, adm, "PATCH", "/v1.0/applications/"+ids[2], map[string]any{"displayName": "renamed", "identifierUris": []string{"api://alpha-one"}})
	if r.errMessage() != "Another object with the same value for property identifierUris already exists." {
		t.Fatalf("conflict %s", r.raw)
	}
	if s.must(t, 200, adm, "GET", "/v1.0/applications/"+ids[2], nil).str("displayName") != "beta" {
		t.Fatal("refused PATCH half-applied")
	}

	// Pages of two, followed through @odata.nextLink as az does.
	page := s.must(t, 200, adm, "GET", "/v1.0/applications?$top=2", nil)
	seen := len(page.values())
	for next := page.str("@odata.nextLink"); next != ""; next = page.str("@odata.nextLink") {
		page = s.must(t, 200, adm, "GET", next, nil)
		seen += len(page.values())
	}
	all := len(s.must(t, 200, adm, "GET", "/v1.0/applications", nil).values())
	if seen != all || all < 4 { // three here plus the bootstrap admin's
		t.Fatalf("paged %d of %d", seen, all)
	}

	// $select: only what is asked for, including what the default
	// rendering leaves out (a user's accountEnabled).
	users := s.must(t, 200, adm, "GET", "/v1.0/users?$select=id,accountEnabled", nil).values()
	if len(users) == 0 {
		t.Fatal("no users")
	}
	for _, u := range users {
		if len(u) != 2 || u["id"] == nil || u["accountEnabled"] != true {
			t.Fatalf("$select=id,accountEnabled: %v", u)
		}
	}
	if u := s.must(t, 200, adm, "GET", "/v1.0/users", nil).values()[0]; u["accountEnabled"] != nil || u["userPrincipalName"] == nil {
		t.Fatalf("without $select: %v", u)
	}
}

// TestResetMovesClientDatesIntoAksidFrame: after `aksid clock advance
// 366d` the first secret has expired, and `az ad app credential reset`
// (dates from az's own clock) gives one valid for a year of aksid time.
func TestResetMovesClientDatesIntoAksidFrame(t *testing.T) {
	s := start(t)
	adm := s.admin
	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "reset"})
	objID, appID := app.str("id"), app.str("appId")
	first := s.must(t, 200, adm, "POST", "/v1.0/applications/"+objID+"/addPassword", map[string]any{})
	end, _ := time.Parse(time.RFC3339, first.str("endDateTime"))
	if d := time.Until(end) - 365*24*time.Hour; d < -time.Minute || d > time.Minute {
		t.Fatalf("default end %v", end)
	}
	s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": appID})
	s.AdvanceClock(366 * 24 * time.Hour)
	adm = s.token(t, s.AdminAppID, s.AdminSecret, "https://graph.microsoft.com/.default")

	// az: the appId filter, GET, removePassword each, addPassword.
	found := s.must(t, 200, adm, "GET", "/v1.0/applications"+filter("appId eq '"+appID+"'"), nil).values()
	if len(found) != 1 {
		t.Fatalf("appId filter found %d", len(found))
	}
	s.must(t, 204, adm, "POST", "/v1.0/applications/"+objID+"/removePassword", map[string]any{"keyId": first.str("keyId")})
	now := time.Now()
	pw := s.must(t, 200, adm, "POST", "/v1.0/applications/"+objID+"/addPassword", map[string]any{"passwordCredential": map[string]any{
		"displayName": nil, "startDateTime": azDate(now), "endDateTime": azDate(now.AddDate(1, 0, 0))}})
	gotEnd, err := time.Parse(time.RFC3339, pw.str("endDateTime"))
	if err != nil {
		t.Fatal(err)
	}
	wantEnd := now.AddDate(1, 0, 0).Add(366 * 24 * time.Hour)
	if d := gotEnd.Sub(wantEnd); d < -5*time.Second || d > 5*time.Second {
		t.Fatalf("endDateTime %v, want ≈ %v (client's year on aksid's clock)", gotEnd, wantEnd)
	}
	s.token(t, appID, pw.str("secretText"), "https://graph.microsoft.com/.default")
}

func TestDeletingPrincipalKeepsApplicationAndDeletingApplicationTakesPrincipals(t *testing.T) {
	s := start(t)
	adm := s.admin
	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "del"})
	objID, appID := app.str("id"), app.str("appId")
	sp := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": appID, "accountEnabled": true})
	s.must(t, 204, adm, "DELETE", "/v1.0/servicePrincipals/"+sp.str("id"), nil)
	s.must(t, 404, adm, "GET", "/v1.0/servicePrincipals/"+sp.str("id"), nil)
	s.must(t, 200, adm, "GET", "/v1.0/applications/"+objID, nil)

	sp2 := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": appID})
	s.must(t, 204, adm, "DELETE", "/v1.0/applications/"+objID, nil)
	s.must(t, 404, adm, "GET", "/v1.0/applications/"+objID, nil)
	s.must(t, 404, adm, "GET", "/v1.0/servicePrincipals/"+sp2.str("id"), nil)
	if v := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("appId eq '"+appID+"'"), nil).values(); len(v) != 0 {
		t.Fatalf("principals left: %v", v)
	}
}

// TestCertificateCredentials follows `az ad app credential reset --cert`:
// a PATCH of keyCredentials with the PEM body (newlines included) as key.
func TestCertificateCredentials(t *testing.T) {
	s := start(t)
	adm := s.admin
	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "cert"})
	objID := app.str("id")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "CLI-Login"}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	pemBody := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	pemBody = strings.TrimSuffix(strings.TrimPrefix(pemBody, "-----BEGIN CERTIFICATE-----\n"), "-----END CERTIFICATE-----\n")
	s.must(t, 204, adm, "PATCH", "/v1.0/applications/"+objID, map[string]any{"keyCredentials": []any{map[string]any{
		"@odata.type": "#microsoft.graph.keyCredential", "displayName": nil, "key": pemBody,
		"keyId": "3c2b1a00-0000-4000-8000-000000000001", "startDateTime": azDate(now), "endDateTime": azDate(now.AddDate(1, 0, 0).Add(-24 * time.Hour)),
		"type": "AsymmetricX509Cert", "usage": "Verify"}}})
	got := s.must(t, 200, adm, "GET", "/v1.0/applications/"+objID, nil)
	kcs := got.m["keyCredentials"].([]any)
	kc := kcs[0].(map[string]any)
	if len(kcs) != 1 || kc["key"] != nil || kc["keyId"] != "3c2b1a00-0000-4000-8000-000000000001" || len(kc["customKeyIdentifier"].(string)) != 40 {
		t.Fatalf("keyCredentials %s", got.raw)
	}
	r := s.must(t, 400, adm, "PATCH", "/v1.0/applications/"+objID, map[string]any{"keyCredentials": []any{map[string]any{
		"key": base64.StdEncoding.EncodeToString([]byte("not a certificate"))}}})
	if r.errCode() != "Request_BadRequest" {
		t.Fatalf("bad certificate %s", r.raw)
	}
	// az's `credential delete --cert` PATCHes the list without the entry.
	s.must(t, 204, adm, "PATCH", "/v1.0/applications/"+objID, map[string]any{"keyCredentials": []any{}})
	if n := len(s.must(t, 200, adm, "GET", "/v1.0/applications/"+objID, nil).m["keyCredentials"].([]any)); n != 0 {
		t.Fatalf("%d certificates left", n)
	}
}
