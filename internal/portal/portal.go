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
	"strconv"
	"strings"
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
	// Sessions keeps the signed-in browsers, shared by the replicas.
	Sessions Sessions
	Log      *slog.Logger
}

const (
	// CallbackPath is the redirect URI's path, registered for the client.
	CallbackPath = "/portal/callback"
	cookieName   = "aksid_portal"
	loginCookie  = "aksid_portal_login"
	// maxSessions bounds the sessions the store holds, maxCached those a
	// replica keeps tokens for.
	maxSessions = 10000
	maxCached   = 1000
	pendingLife = 10 * time.Minute
	// sessionLife is how long a sign-in lasts; tokens are renewed with
	// the refresh token meanwhile, and a disabled user is out at once.
	sessionLife = 8 * time.Hour
)

// Handler serves the portal.
type Handler struct {
	o     Options
	mu    sync.Mutex
	cache map[string]*session // by cookie value: this replica's tokens
}

// New returns the portal.
func New(o Options) *Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Handler{o: o, cache: map[string]*session{}}
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
		s, ok := h.current(w, r)
		if !ok {
			return
		}
		if s == nil {
			h.signIn(w, r)
			return
		}
		view(w, r, s)
	}
}

// current is the request's session, nil when it has none; ok is false
// when the store failed and the answer is written.
func (h *Handler) current(w http.ResponseWriter, r *http.Request) (s *session, ok bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, true
	}
	s, err = h.load(r.Context(), c.Value)
	if err != nil {
		h.o.Log.ErrorContext(r.Context(), "portal: reading a session failed", "err", err)
		h.fail(w, http.StatusServiceUnavailable, "The portal's sessions cannot be read right now; try again shortly.")
		return nil, false
	}
	return s, true
}

// signed is the session of a form's POST with its CSRF token, or nil
// after answering.
func (h *Handler) signed(w http.ResponseWriter, r *http.Request) *session {
	s, ok := h.current(w, r)
	if !ok {
		return nil
	}
	if s == nil || !h.csrfOK(w, r, s) {
		h.fail(w, http.StatusForbidden, "This form has expired. Reload the page and try again.")
		return nil
	}
	return s
}

// signIn starts the authorization code flow with PKCE at aksid's own
// authorize page. The state and the PKCE verifier go in a short-lived
// HttpOnly cookie, so the callback may reach any replica and only this
// browser can finish the sign-in.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	state, verifier := rand.Text(), rand.Text()+rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {h.o.ClientID}, "response_type": {"code"}, "redirect_uri": {RedirectURI(h.o.URL)},
		"scope": {graphAPI.scope + " openid profile offline_access"}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	setCookie(w, loginCookie, state+"."+verifier+"."+strconv.FormatInt(time.Now().Unix(), 10), int(pendingLife/time.Second))
	http.Redirect(w, r, h.o.URL+"/"+h.o.TenantID+"/oauth2/v2.0/authorize?"+q.Encode(), http.StatusFound)
}

// callback redeems the code at the token endpoint and opens a session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(loginCookie)
	var want, verifier, started string
	if err == nil {
		parts := strings.Split(c.Value, ".")
		if len(parts) == 3 {
			want, verifier, started = parts[0], parts[1], parts[2]
		}
	}
	if state == "" || want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(state)) != 1 {
		h.fail(w, http.StatusBadRequest, "This sign-in was not started here. Open the portal again.")
		return
	}
	setCookie(w, loginCookie, "", -1)
	if at, err := strconv.ParseInt(started, 10, 64); err != nil || time.Since(time.Unix(at, 0)) > pendingLife {
		h.fail(w, http.StatusBadRequest, "This sign-in timed out. Open the portal again.")
		return
	}
	if e := q.Get("error"); e != "" {
		h.fail(w, http.StatusUnauthorized, "Sign-in failed: "+q.Get("error_description"))
		return
	}
	tok, err := h.redeem(r.Context(), q.Get("code"), verifier)
	if err != nil {
		h.o.Log.InfoContext(r.Context(), "portal: code redemption failed", "err", err)
		h.fail(w, http.StatusUnauthorized, "Sign-in failed: "+err.Error())
		return
	}
	s := &session{id: rand.Text(), ends: time.Now().Add(sessionLife), csrf: rand.Text(), tokens: map[string]bearerToken{}}
	s.keep(graphAPI, tok)
	if s.name, err = h.me(r.Context(), s); err != nil {
		h.o.Log.ErrorContext(r.Context(), "portal: reading the signed-in user failed", "err", err)
		h.fail(w, http.StatusBadGateway, "Could not read your account from Microsoft Graph.")
		return
	}
	if status, msg := h.open(r.Context(), s); status != 0 {
		h.fail(w, status, msg)
		return
	}
	setCookie(w, cookieName, s.id, int(sessionLife/time.Second))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// open stores a new session, after sweeping the ended ones; a status
// and message when it cannot.
func (h *Handler) open(ctx context.Context, s *session) (int, string) {
	live, err := h.o.Sessions.Sweep(ctx, time.Now())
	if err == nil && live >= maxSessions {
		return http.StatusServiceUnavailable, "Too many portal sessions; try again later."
	}
	if err == nil {
		s.mu.Lock()
		err = h.save(ctx, s)
		s.mu.Unlock()
	}
	if err != nil {
		h.o.Log.ErrorContext(ctx, "portal: storing a session failed", "err", err)
		return http.StatusServiceUnavailable, "The portal's sessions cannot be stored right now; try again shortly."
	}
	h.mu.Lock()
	if len(h.cache) >= maxCached {
		clear(h.cache)
	}
	h.cache[s.id] = s
	h.mu.Unlock()
	return 0, ""
}

// signOut ends the session everywhere (POST with its CSRF token).
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	s := h.signed(w, r)
	if s == nil {
		return
	}
	if err := h.o.Sessions.Delete(r.Context(), storeKey(s.id)); err != nil {
		h.o.Log.ErrorContext(r.Context(), "portal: deleting a session failed", "err", err)
		h.fail(w, http.StatusServiceUnavailable, "You could not be signed out right now; try again shortly.")
		return
	}
	h.uncache(s.id)
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
