package iamapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/facetest"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/store"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	tenant  = "22e5b5db-8b5f-42f5-80ec-f411e716d348"
	admin   = "0d1a6e4c-0000-4000-8000-00000000a001"
	someone = "0d1a6e4c-0000-4000-8000-00000000b002"
	appID   = "7d555f05-a273-43c5-8a2d-c899f4d72919"
	aksidAt = "https://127.0.0.1:8443"
)

type keys struct{ key *rsa.PrivateKey }

func (k keys) VerifyKey(_ context.Context, kid string) (*rsa.PublicKey, bool) {
	return &k.key.PublicKey, kid == "k1"
}

// fakeDirectory knows one administrator and answers consent with err.
type fakeDirectory struct {
	err       error
	consented []string
}

func (f *fakeDirectory) IsAdministrator(_ context.Context, tid, oid string) (bool, error) {
	return tid == tenant && oid == admin, nil
}

func (f *fakeDirectory) AdminConsent(_ context.Context, tid, app string) error {
	if f.err != nil {
		return f.err
	}
	f.consented = append(f.consented, tid+"/"+app)
	return nil
}

// TestConsentAndHostileInput: only a valid token for the portal's API,
// from an administrator, on behalf of the whole tenant consents; every
// other request gets the face's JSON error with the right status, and no
// body shows aksid's insides.
func TestConsentAndHostileInput(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	token := func(oid, aud, issBase string, exp time.Duration) string {
		t.Helper()
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		tok, err := jwt.Signed(signer).Claims(map[string]any{"aud": aud, "iss": issBase + "/" + tenant + "/", "tid": tenant, "oid": oid,
			"upn": "x@aksid.local", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(exp).Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	good := token(admin, directory.PortalAPIApp, origin.AzureV1Base, time.Hour)
	consentPath := "/api/RegisteredApplications/" + appID + "/Consent?onBehalfOfAll=true"
	const secretLeak = "s3cr3t-in-the-error"
	for _, tc := range []struct {
		name, method, path, auth string
		dirErr                   error
		status                   int
		code                     string
	}{
		{"no token", "POST", consentPath, "", nil, 401, "Unauthorized"},
		{"not a JWT", "POST", consentPath, "Bearer eyJ.\x00.\xff", nil, 401, "Unauthorized"},
		{"basic auth", "POST", consentPath, "Basic YWRtaW46YWRtaW4=", nil, 401, "Unauthorized"},
		{"Graph's audience", "POST", consentPath, token(admin, "https://graph.microsoft.com", origin.AzureV1Base, time.Hour), nil, 401, "Unauthorized"},
		{"foreign issuer", "POST", consentPath, token(admin, directory.PortalAPIApp, "https://evil.example", time.Hour), nil, 401, "Unauthorized"},
		{"expired", "POST", consentPath, token(admin, directory.PortalAPIApp, origin.AzureV1Base, -time.Hour), nil, 401, "Unauthorized"},
		{"for one user only", "POST", strings.TrimSuffix(consentPath, "true") + "false", good, nil, 400, "BadRequest"},
		{"not an administrator", "POST", consentPath, token(someone, directory.PortalAPIApp, origin.AzureV1Base, time.Hour), nil, 403, "Forbidden"},
		{"unknown application", "POST", consentPath, good, directory.ErrApplicationNotFound, 404, "NotFound"},
		{"store down", "POST", consentPath, good, store.ErrUnavailable, 503, "ServiceUnavailable"},
		{"internal failure", "POST", consentPath, good, errors.New("sql: database is locked at store.go:12 " + secretLeak), 500, "InternalServerError"},
		{"GET", "GET", consentPath, good, nil, 404, "NotFound"},
		{"another API", "GET", "/api/Directories/Properties", good, nil, 404, "NotFound"},
		{"SQL-ish app", "POST", "/api/RegisteredApplications/x'%20OR%201=1--/Consent?onBehalfOfAll=true", good, directory.ErrApplicationNotFound, 404, "NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := &fakeDirectory{err: tc.dirErr}
			mux := http.NewServeMux()
			var logs bytes.Buffer
			New(dir, authn.New(keys{key}, clock.Wall{}), slog.New(slog.NewTextHandler(&logs, nil))).Register(mux)
			req := httptest.NewRequest(tc.method, "https://"+Host+tc.path, nil)
			req = req.WithContext(origin.NewContext(req.Context(), origin.Proxied(Host, aksidAt)))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			facetest.WithRequestID(mux).ServeHTTP(rec, req)
			var body struct{ ErrorCode, Message string }
			if rec.Code != tc.status || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.ErrorCode != tc.code || body.Message == "" {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			for _, leak := range []string{".go:", "sql", "goroutine", "panic", secretLeak} {
				if strings.Contains(strings.ToLower(rec.Body.String()), leak) {
					t.Fatalf("body shows %q: %s", leak, rec.Body)
				}
			}
			if len(dir.consented) != 0 {
				t.Fatalf("a refused request consented: %v", dir.consented)
			}
			// A 500's cause is in the log, under the response's request ID.
			if tc.status == 500 && (!strings.Contains(logs.String(), "request_id="+facetest.RequestID) || !strings.Contains(logs.String(), secretLeak)) {
				t.Fatalf("no log of the cause under the request ID:\n%s", logs.String())
			}
		})
	}

	dir := &fakeDirectory{}
	mux := http.NewServeMux()
	New(dir, authn.New(keys{key}, clock.Wall{}), nil).Register(mux)
	for _, aud := range []string{directory.PortalAPIApp, "https://" + Host} {
		req := httptest.NewRequest("POST", "https://"+Host+consentPath, nil)
		req = req.WithContext(origin.NewContext(req.Context(), origin.Proxied(Host, aksidAt)))
		req.Header.Set("Authorization", token(admin, aud, origin.AzureV1Base, time.Hour))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Fatalf("an administrator's consent (audience %s): %d %s", aud, rec.Code, rec.Body)
		}
	}
	if len(dir.consented) != 2 || dir.consented[0] != tenant+"/"+appID {
		t.Fatalf("consented %v", dir.consented)
	}
}
