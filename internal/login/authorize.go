package login

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/aksid/aksid/internal/sts"
)

// BrowserFlow is the authorization-code side of the token service.
type BrowserFlow interface {
	CheckAuthorize(ctx context.Context, a sts.AuthorizeRequest) (sts.AuthorizePrompt, error)
	Authorize(ctx context.Context, a sts.AuthorizeRequest, username, password string) (string, error)
	AuthorizeSecondFactor(ctx context.Context, a sts.AuthorizeRequest, flow, code string) (string, error)
	AuthorizeConsent(ctx context.Context, a sts.AuthorizeRequest, flow string, accept, everyone bool) (string, error)
}

var _ BrowserFlow = (*sts.Service)(nil)

var signinPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – aksid</title>
` + pageStyle + `</head><body><main>
<div class="brand">aksid · local Entra ID</div>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Consent}}
` + consentForm + `
{{else if .Flow}}
<p>Enter the verification code you were given for your account.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}">
<input type="hidden" name="flow" value="{{.Flow}}">
<label for="verification">Verification code</label>
<input type="text" id="verification" name="verification" inputmode="numeric" autocomplete="one-time-code" autofocus required>
<button type="submit" name="decision" value="verify">Verify</button><button type="submit" name="decision" value="cancel" class="secondary" formnovalidate>Cancel</button>
</form>
{{else if .Query}}
<p>to continue to <strong>{{.Client}}</strong></p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}">
<label for="username">Email or user name</label>
<input type="text" id="username" name="username" autocomplete="username" {{if not .User}}autofocus {{end}}required value="{{.User}}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" {{if .User}}autofocus {{end}}required>
<button type="submit" name="decision" value="signin">Sign in</button><button type="submit" name="decision" value="cancel" class="secondary" formnovalidate>Cancel</button>
</form>
{{end}}
</main></body></html>`))

// formPostPage hands the answer to the client's loopback server: the
// browser POSTs it there at once (MSAL's server accepts only POST).
var formPostPage = template.Must(template.New("formpost").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Working… – aksid</title>
` + pageStyle + `</head><body><main>
<div class="brand">aksid · local Entra ID</div>
<h1>Signing you in</h1>
<form method="post" action="{{.Action}}" id="answer">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<p>If nothing happens, press Continue.</p>
<button type="submit" autofocus>Continue</button>
</form>
<script nonce="{{.Nonce}}">document.getElementById("answer").submit()</script>
</main></body></html>`))

type signinData struct {
	Title, Client, Action, Query, User, Error, Flow string
	Consent                                         *consentData
}

// authorize serves …/oauth2[/v2.0]/authorize: the sign-in page (GET, or a
// POST carrying the OAuth parameters), then the person's answer (POST with
// the page's fields), which ends at the client's redirect URI.
func (h *Handler) authorize(v sts.Version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w, "")
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			_ = signinPage.Execute(w, signinData{Title: "Sign in", Error: "Use the sign-in link your app opened."})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = signinPage.Execute(w, signinData{Title: "Sign in", Error: "The request could not be read."})
			return
		}
		params := r.Form
		answer := r.Method == http.MethodPost && r.PostForm.Has("q")
		if answer {
			q, err := url.ParseQuery(r.PostForm.Get("q"))
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				_ = signinPage.Execute(w, signinData{Title: "Sign in", Error: "The request could not be read."})
				return
			}
			params = q
		}
		a := sts.AuthorizeRequestFrom(r.PathValue("tenant"), v, params)
		prompt, err := h.browser.CheckAuthorize(r.Context(), a)
		if err != nil {
			h.authorizeFailed(w, r, a, prompt, err)
			return
		}
		pageHeaders(w, prompt.Redirect)
		page := signinData{Title: "Sign in", Client: prompt.ClientName, Action: r.URL.Path, Query: a.Values().Encode(), User: a.LoginHint}
		if !answer {
			_ = signinPage.Execute(w, page)
			return
		}
		decision := r.PostForm.Get("decision")
		consentFlow := r.PostForm.Get("consentflow")
		if decision == "cancel" && consentFlow == "" {
			h.authorizeFailed(w, r, a, prompt, sts.ErrUserCanceled())
			return
		}
		page.User = r.PostForm.Get("username")
		var code string
		if consentFlow != "" {
			code, err = h.browser.AuthorizeConsent(r.Context(), a, consentFlow, decision == "accept", r.PostForm.Get("everyone") == "on")
		} else if flow := r.PostForm.Get("flow"); flow != "" {
			code, err = h.browser.AuthorizeSecondFactor(r.Context(), a, flow, r.PostForm.Get("verification"))
		} else {
			code, err = h.browser.Authorize(r.Context(), a, page.User, r.PostForm.Get("password"))
		}
		var se *sts.Error
		var second *sts.SecondFactorRequired
		var consent *sts.ConsentRequired
		switch {
		case errors.As(err, &second):
			page.Title, page.Flow = "Verify your identity", second.Flow
			_ = signinPage.Execute(w, page)
			return
		case errors.As(err, &consent):
			page.Title, page.Consent = "Permissions requested", consentPage(consent)
			page.Consent.Hidden["q"] = page.Query
			_ = signinPage.Execute(w, page)
			return
		case errors.As(err, &se) && se.Code == 500121:
			page.Title, page.Flow, page.Error = "Verify your identity", r.PostForm.Get("flow"), signInMessage(se)
			_ = signinPage.Execute(w, page)
			return
		case errors.Is(err, sts.ErrSignInExpired):
			page.Error = "Your sign-in timed out. Sign in again."
			_ = signinPage.Execute(w, page)
			return
		}
		if errors.As(err, &se) && sts.IsSignInRefusal(se) {
			// The person may try again: say so on the page, as Entra does.
			h.log.InfoContext(r.Context(), "login: sign-in refused", "code", se.Code)
			page.Error = signInMessage(se)
			w.WriteHeader(http.StatusOK)
			_ = signinPage.Execute(w, page)
			return
		}
		if err != nil {
			h.authorizeFailed(w, r, a, prompt, err)
			return
		}
		h.answer(w, r, prompt, url.Values{"code": {code}, "state": stateOf(a)})
	}
}

func stateOf(a sts.AuthorizeRequest) []string {
	if a.State == "" {
		return nil
	}
	return []string{a.State}
}

// signInMessage is what the page tells a person whose sign-in failed.
func signInMessage(se *sts.Error) string {
	return "AADSTS" + strconv.Itoa(se.Code) + ": " + se.Description
}

// authorizeFailed shows an error on the page when the redirect URI is not
// trusted, and otherwise sends it to the client as OAuth asks.
func (h *Handler) authorizeFailed(w http.ResponseWriter, r *http.Request, a sts.AuthorizeRequest, p sts.AuthorizePrompt, err error) {
	var se *sts.Error
	if !errors.As(err, &se) {
		h.log.ErrorContext(r.Context(), "login: internal error", "trace_id", traceID(w), "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		_ = signinPage.Execute(w, signinData{Title: "Sorry, something went wrong", Error: "Trace ID: " + traceID(w)})
		return
	}
	h.log.InfoContext(r.Context(), "login: authorize refused", "trace_id", traceID(w), "code", se.Code, "error", se.OAuth)
	if p.Redirect == "" {
		w.WriteHeader(http.StatusBadRequest)
		_ = signinPage.Execute(w, signinData{Title: "Sorry, but we're having trouble signing you in.", Error: signInMessage(se)})
		return
	}
	pageHeaders(w, p.Redirect)
	h.answer(w, r, p, url.Values{"error": {se.OAuth}, "error_description": {signInMessage(se)}, "state": stateOf(a)})
}

// answer delivers code or error to the redirect URI in the asked mode.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, p sts.AuthorizePrompt, fields url.Values) {
	if p.ResponseMode == "form_post" {
		flat := map[string]string{}
		for k, v := range fields {
			flat[k] = v[0]
		}
		nonce := rand.Text()
		pageHeadersNonce(w, p.Redirect, nonce)
		_ = formPostPage.Execute(w, map[string]any{"Action": p.Redirect, "Fields": flat, "Nonce": nonce})
		return
	}
	u, err := url.Parse(p.Redirect)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if p.ResponseMode == "fragment" {
		u.Fragment = fields.Encode()
	} else {
		q := u.Query()
		for k, v := range fields {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// pageHeaders are the sign-in pages' headers; forms may go to aksid and to
// the client's (already verified) redirect origin, nowhere else.
func pageHeaders(w http.ResponseWriter, redirect string) { pageHeadersNonce(w, redirect, "") }

func pageHeadersNonce(w http.ResponseWriter, redirect, nonce string) {
	formAction := "'self'"
	if u, err := url.Parse(redirect); err == nil && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	script := ""
	if nonce != "" {
		script = "; script-src 'nonce-" + nonce + "'"
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'"+script)
}
