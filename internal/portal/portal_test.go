package portal

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		end  time.Time
		want string
	}{
		{now.Add(-time.Second), StateExpired},
		{now, StateExpired},
		{now.Add(10 * 24 * time.Hour), StateExpiring},
		{now.Add(ExpiringWithin), StateExpiring},
		{now.Add(ExpiringWithin + time.Second), StateValid},
	} {
		if got := Classify(tc.end, now); got != tc.want {
			t.Errorf("Classify(now%+v) = %s, want %s", tc.end.Sub(now), got, tc.want)
		}
	}
}

func TestTimelineLongLivedAndSorted(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	a := graphApp{DisplayName: "a", PasswordCredentials: []graphCred{
		{KeyID: "long", StartDateTime: now, EndDateTime: now.Add(99 * 365 * 24 * time.Hour)},
		{KeyID: "short", StartDateTime: now.Add(-24 * time.Hour), EndDateTime: now.Add(10 * 24 * time.Hour)},
	}, KeyCredentials: []graphCred{{KeyID: "cert", StartDateTime: now.Add(-48 * time.Hour), EndDateTime: now.Add(-time.Hour)}}}
	v := timeline(a, now)
	if len(v.Creds) != 3 || v.Creds[0].KeyID != "cert" || v.Creds[1].KeyID != "short" || v.Creds[2].KeyID != "long" {
		t.Fatalf("order %+v", v.Creds)
	}
	if v.Creds[0].State != StateExpired || v.Creds[1].State != StateExpiring || v.Creds[2].State != StateValid {
		t.Fatalf("states %+v", v.Creds)
	}
	if v.Creds[1].Left != "ends in 10 days" || v.Creds[0].Left != "ended under 12 hours ago" {
		t.Fatalf("left %q %q", v.Creds[1].Left, v.Creds[0].Left)
	}
	for _, c := range v.Creds {
		if c.BarLeft < 0 || c.BarWidth < 1 || c.BarLeft+c.BarWidth > 100 || c.NowAt < 0 || c.NowAt > 100 {
			t.Fatalf("bar out of the track: %+v", c)
		}
	}
	if v.Creds[2].BarWidth < 99 {
		t.Fatalf("a 99-year secret spans %d%%", v.Creds[2].BarWidth)
	}
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Advance(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

// fakeAksid answers the token endpoint (checking the PKCE verifier) and
// Graph (one application; admin only for the token "admin").
func fakeAksid(now time.Time) http.Handler {
	challenges := map[string]string{} // code → challenge
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tid/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("login_hint")
		challenges[code] = r.URL.Query().Get("code_challenge")
	})
	refreshTokens, refresh := map[string]string{}, 0 // refresh token → user, each once
	mux.HandleFunc("POST /tid/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") == "refresh_token" {
			user, ok := refreshTokens[r.PostForm.Get("refresh_token")]
			delete(refreshTokens, r.PostForm.Get("refresh_token"))
			if !ok || !strings.HasSuffix(r.PostForm.Get("scope"), " offline_access") {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"AADSTS70000: spent"}`)
				return
			}
			refresh++
			refreshTokens[fmt.Sprintf("rt-%d", refresh)] = user
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": user, "expires_in": 3600, "refresh_token": fmt.Sprintf("rt-%d", refresh)})
			return
		}
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		code := r.PostForm.Get("code")
		if challenges[code] != base64.RawURLEncoding.EncodeToString(sum[:]) || r.PostForm.Get("redirect_uri") != "https://aksid.test/portal/callback" {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"AADSTS501481: bad verifier"}`)
			return
		}
		refresh++
		refreshTokens[fmt.Sprintf("rt-%d", refresh)] = code
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": code, "expires_in": 3600, "refresh_token": fmt.Sprintf("rt-%d", refresh)})
	})
	mux.HandleFunc("GET /v1.0/me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"userPrincipalName":"someone@aksid.local"}`)
	})
	mux.HandleFunc("GET /v1.0/me/memberOf", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer admin" {
			_, _ = io.WriteString(w, `{"value":[{"@odata.type":"#microsoft.graph.directoryRole","roleTemplateId":"`+globalAdministrator+`"}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"value":[{"@odata.type":"#microsoft.graph.group","id":"g"}]}`)
	})
	mux.HandleFunc("GET /v1.0/applications", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"value": []any{map[string]any{"id": "o1", "appId": "a1", "displayName": "app <one>",
			"passwordCredentials": []any{map[string]any{"keyId": "k1", "displayName": "s", "startDateTime": now, "endDateTime": now.Add(10 * 24 * time.Hour)}}}}})
	})
	return mux
}

// memSessions is Sessions in memory.
type memSessions struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newSessions() *memSessions { return &memSessions{m: map[string][]byte{}} }

func (m *memSessions) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.m[key]; ok {
		return v, nil
	}
	return nil, ErrNoSession
}

func (m *memSessions) Put(_ context.Context, key string, _ time.Time, sealed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key] = sealed
	return nil
}

func (m *memSessions) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

func (m *memSessions) Sweep(context.Context, time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m), nil
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// signedIn walks the flow as code and returns the session cookie and the
// page's CSRF token.
func signedIn(t *testing.T, p *Handler, aksid http.Handler, code string) (*http.Cookie, string) {
	mux := http.NewServeMux()
	p.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "https://aksid.test/", nil))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || loc.Path != "/tid/oauth2/v2.0/authorize" || loc.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("GET / without a session: %d %s", rec.Code, loc)
	}
	login := rec.Result().Cookies()[0]
	if !login.HttpOnly || !login.Secure || login.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login cookie %+v", login)
	}
	q := loc.Query()
	q.Set("login_hint", code)
	aksid.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", loc.Path+"?"+q.Encode(), nil))
	cb := httptest.NewRequest("GET", "https://aksid.test/portal/callback?code="+code+"&state="+q.Get("state"), nil)
	cb.AddCookie(login)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, cb)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	var sess *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName {
			sess = c
		}
	}
	if sess == nil || strings.Contains(sess.Value, code) || !sess.HttpOnly || !sess.Secure {
		t.Fatalf("session cookie %+v", sess)
	}
	req := httptest.NewRequest("GET", "https://aksid.test/portal/clock", nil)
	req.AddCookie(sess)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	body := rec.Body.String()
	i := strings.Index(body, `name="csrf" value="`)
	if rec.Code != 200 || i < 0 {
		t.Fatalf("clock page: %d %s", rec.Code, body)
	}
	csrf, _, _ := strings.Cut(body[i+len(`name="csrf" value="`):], `"`)
	return sess, csrf
}

func TestPortalFlowAndClockRights(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	aksid := fakeAksid(now)
	clk := &fakeClock{now}
	p := New(Options{URL: "https://aksid.test", TenantID: "tid", ClientID: "portal", LoginBase: "https://login.test", GraphBase: "https://graph.test",
		HTTP: &http.Client{Transport: handlerTransport{aksid}}, Clock: clk, Sessions: newSessions(), Log: slog.New(slog.DiscardHandler)})
	mux := http.NewServeMux()
	p.Register(mux)
	post := func(sess *http.Cookie, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "https://aksid.test/portal/clock", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sess != nil {
			req.AddCookie(sess)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}

	user, userCSRF := signedIn(t, p, aksid, "user")
	req := httptest.NewRequest("GET", "https://aksid.test/", nil)
	req.AddCookie(user)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if body := rec.Body.String(); !strings.Contains(body, `class="expiring"`) || !strings.Contains(body, "app &lt;one&gt;") ||
		!strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") || strings.Contains(body, "<script") {
		t.Fatalf("applications page: %s %v", body, rec.Header())
	}
	if rec := post(nil, url.Values{"advance": {"1d"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("POST without a session: %d", rec.Code)
	}
	if rec := post(user, url.Values{"advance": {"1d"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("POST without the CSRF token: %d", rec.Code)
	}
	if rec := post(user, url.Values{"advance": {"1d"}, "csrf": {userCSRF}}); rec.Code != http.StatusForbidden || !clk.now.Equal(now) {
		t.Fatalf("a user without the role moved the clock: %d %v", rec.Code, clk.now)
	}

	admin, adminCSRF := signedIn(t, p, aksid, "admin")
	if rec := post(admin, url.Values{"advance": {"1d"}, "csrf": {userCSRF}}); rec.Code != http.StatusForbidden {
		t.Fatalf("another session's CSRF token: %d", rec.Code)
	}
	if rec := post(admin, url.Values{"advance": {"11d"}, "csrf": {adminCSRF}}); rec.Code != http.StatusSeeOther || !clk.now.Equal(now.Add(11*24*time.Hour)) {
		t.Fatalf("the admin's POST: %d, clock %v", rec.Code, clk.now)
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "https://aksid.test/", nil)
	req.AddCookie(admin)
	mux.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `class="expired"`) {
		t.Fatalf("after 11 days: %s", rec.Body)
	}
}
