// Package portal is aksid's web portal face: server-rendered pages of what a tenant holds, for a person signed in through aksid's own authorize page as an ordinary OAuth client (authorization code with PKCE).
package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Clock is aksid's clock as the portal shows and moves it.
type Clock interface {
	Now() time.Time
	Advance(ctx context.Context, d time.Duration) error
}

// Options configure the portal.
type Options struct {
	// URL is aksid's URL as browsers reach it (https://127.0.0.1:PORT):
	// the sign-in page and the callback are on it.
	URL      string
	TenantID string
	ClientID string // the portal's public client application
	// LoginBase, GraphBase and ARMBase are where the portal's own
	// server-side requests go: the token endpoint, Microsoft Graph and
	// Resource Manager, through HTTP with the user's own tokens.
	LoginBase, GraphBase, ARMBase string
	HTTP                          *http.Client
	Clock                         Clock
	// Backend is what no Azure API offers: hosts and cluster checks.
	Backend Backend
	Log     *slog.Logger
}

const (
	// CallbackPath is the redirect URI's path, registered for the client.
	CallbackPath = "/portal/callback"
	cookieName   = "aksid_portal"
	loginCookie  = "aksid_portal_login"
	maxSessions  = 1000
	maxPending   = 1000
	pendingLife  = 10 * time.Minute
	// sessionLife is how long a sign-in lasts; tokens are renewed with
	// the refresh token meanwhile, and a disabled user is out at once.
	sessionLife = 8 * time.Hour
)

// session is one signed-in browser. Only its random ID leaves the server;
// its tokens stay in memory.
type session struct {
	ends       time.Time // on the wall clock, as the cookie's
	csrf, name string

	mu      sync.Mutex
	tokens  map[string]bearerToken // by scope: Graph's, Resource Manager's
	refresh string                 // the newest: each works once
}

type bearerToken struct {
	token   string
	expires time.Time // on the wall clock, as tokens keep wall time
}

// keep stores a token answer (the caller holds s.mu).
func (s *session) keep(a api, t tokenAnswer) {
	s.tokens[a.scope] = bearerToken{t.AccessToken, time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)}
	if t.RefreshToken != "" {
		s.refresh = t.RefreshToken
	}
}

// forget drops a token the API refused.
func (s *session) forget(a api) {
	s.mu.Lock()
	delete(s.tokens, a.scope)
	s.mu.Unlock()
}

// pending is a sign-in under way: the PKCE verifier for its state.
type pending struct {
	verifier string
	created  time.Time
}

// Handler serves the portal.
type Handler struct {
	o        Options
	mu       sync.Mutex
	sessions map[string]*session
	pending  map[string]pending
}

// New returns the portal.
func New(o Options) *Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Handler{o: o, sessions: map[string]*session{}, pending: map[string]pending{}}
}

// RedirectURI is the portal's redirect URI on url.
func RedirectURI(url string) string { return url + CallbackPath }

// Register adds the portal's routes: the root page and /portal/….
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.page(h.applications))
	mux.HandleFunc("GET /portal/users", h.page(h.users))
	mux.HandleFunc("GET /portal/groups", h.page(h.groups))
	mux.HandleFunc("GET /portal/roles", h.page(h.roles))
	mux.HandleFunc("GET /portal/identities", h.page(h.identities))
	mux.HandleFunc("GET /portal/clusters", h.page(h.clusters))
	mux.HandleFunc("GET /portal/clock", h.page(h.clockView))
	mux.HandleFunc("POST /portal/applications/reset", h.resetSecret)
	mux.HandleFunc("POST /portal/clusters/check", h.checkCluster)
	mux.HandleFunc("POST /portal/clock", h.moveClock)
	mux.HandleFunc("GET "+CallbackPath, h.callback)
	mux.HandleFunc("POST /portal/signout", h.signOut)
}

// page runs a view for a signed-in browser and sends others to sign in.
func (h *Handler) page(view func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.current(r)
		if s == nil {
			h.signIn(w, r)
			return
		}
		view(w, r, s)
	}
}

// current is the request's live session, or nil.
func (h *Handler) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[c.Value]
	if s == nil || time.Now().After(s.ends) {
		delete(h.sessions, c.Value)
		return nil
	}
	return s
}

// signIn starts the authorization code flow with PKCE at aksid's own
// authorize page; the state ties the answer to this browser.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	state, verifier := rand.Text(), rand.Text()+rand.Text()
	h.mu.Lock()
	prune(h.pending, func(p pending) bool { return time.Since(p.created) > pendingLife })
	if len(h.pending) >= maxPending {
		h.mu.Unlock()
		h.fail(w, http.StatusServiceUnavailable, "Too many sign-ins under way; try again in a few minutes.")
		return
	}
	h.pending[state] = pending{verifier: verifier, created: time.Now()}
	h.mu.Unlock()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {h.o.ClientID}, "response_type": {"code"}, "redirect_uri": {RedirectURI(h.o.URL)},
		"scope": {graphAPI.scope + " openid profile offline_access"}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	setCookie(w, loginCookie, state, int(pendingLife/time.Second))
	http.Redirect(w, r, h.o.URL+"/"+h.o.TenantID+"/oauth2/v2.0/authorize?"+q.Encode(), http.StatusFound)
}

// callback redeems the code at the token endpoint and opens a session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(loginCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		h.fail(w, http.StatusBadRequest, "This sign-in was not started here. Open the portal again.")
		return
	}
	h.mu.Lock()
	p, ok := h.pending[state]
	delete(h.pending, state)
	h.mu.Unlock()
	setCookie(w, loginCookie, "", -1)
	if !ok || time.Since(p.created) > pendingLife {
		h.fail(w, http.StatusBadRequest, "This sign-in timed out. Open the portal again.")
		return
	}
	if e := q.Get("error"); e != "" {
		h.fail(w, http.StatusUnauthorized, "Sign-in failed: "+q.Get("error_description"))
		return
	}
	tok, err := h.redeem(r.Context(), q.Get("code"), p.verifier)
	if err != nil {
		h.o.Log.InfoContext(r.Context(), "portal: code redemption failed", "err", err)
		h.fail(w, http.StatusUnauthorized, "Sign-in failed: "+err.Error())
		return
	}
	s := &session{ends: time.Now().Add(sessionLife), csrf: rand.Text(), tokens: map[string]bearerToken{}}
	s.keep(graphAPI, tok)
	if s.name, err = h.me(r.Context(), s); err != nil {
		h.o.Log.ErrorContext(r.Context(), "portal: reading the signed-in user failed", "err", err)
		h.fail(w, http.StatusBadGateway, "Could not read your account from Microsoft Graph.")
		return
	}
	id := rand.Text()
	h.mu.Lock()
	prune(h.sessions, func(s *session) bool { return time.Now().After(s.ends) })
	if len(h.sessions) >= maxSessions {
		h.mu.Unlock()
		h.fail(w, http.StatusServiceUnavailable, "Too many portal sessions; try again later.")
		return
	}
	h.sessions[id] = s
	h.mu.Unlock()
	setCookie(w, cookieName, id, int(sessionLife/time.Second))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signOut forgets the session (POST with its CSRF token).
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	s := h.current(r)
	if s == nil || !h.csrfOK(w, r, s) {
		h.fail(w, http.StatusForbidden, "This form has expired. Reload the page and try again.")
		return
	}
	if c, err := r.Cookie(cookieName); err == nil {
		h.mu.Lock()
		delete(h.sessions, c.Value)
		h.mu.Unlock()
	}
	setCookie(w, cookieName, "", -1)
	pageHeaders(w)
	_ = signedOutPage.Execute(w, nil)
}

// csrfOK checks a form's per-session token.
func (h *Handler) csrfOK(w http.ResponseWriter, r *http.Request, s *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return false
	}
	got := r.PostForm.Get("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// setCookie sets a portal cookie: HttpOnly, Secure, SameSite=Lax, the
// whole site (the root page is the portal's).
func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

func prune[V any](m map[string]V, stale func(V) bool) {
	for k, v := range m {
		if stale(v) {
			delete(m, k)
		}
	}
}

// pageHeaders are the sign-in page's: nothing loads from anywhere, forms
// post only to aksid, no framing, no referrer.
func pageHeaders(w http.ResponseWriter) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
}

// fail shows an error page.
func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = errorPage.Execute(w, map[string]string{"Message": msg})
}
