package login

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/sts"
)

// DeviceFlow is the device-code side of the token service.
type DeviceFlow interface {
	StartDeviceCode(ctx context.Context, tenantSeg string, form url.Values) (sts.DeviceCode, error)
	LookupUserCode(ctx context.Context, userCode string) (sts.DevicePrompt, error)
	ApproveDeviceCode(ctx context.Context, userCode, username, password string) error
	DeclineDeviceCode(ctx context.Context, userCode, username, password string) error
	ApproveDeviceCodeSecondFactor(ctx context.Context, userCode, flow, code string) error
	ApproveDeviceCodeConsent(ctx context.Context, userCode, flow string, accept, everyone bool) error
}

// deviceCode answers POST …/oauth2[/v2.0]/devicecode. The v1 answer
// carries numbers as strings and verification_url, as ADAL reads it.
func (h *Handler) deviceCode(v sts.Version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.writeError(w, r, sts.ErrMethod(r.Method))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			h.writeError(w, r, sts.ErrMissingParam("client_id"))
			return
		}
		dc, err := h.device.StartDeviceCode(r.Context(), r.PathValue("tenant"), r.PostForm)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		uri := origin.FromContext(r.Context()).Base + "/devicelogin"
		msg := "To sign in, use a web browser to open the page " + uri + " and enter the code " + dc.UserCode + " to authenticate."
		if v == sts.V1 {
			writeJSON(w, http.StatusOK, map[string]string{"user_code": dc.UserCode, "device_code": dc.DeviceCode, "verification_url": uri,
				"expires_in": strconv.Itoa(dc.ExpiresIn), "interval": strconv.Itoa(dc.Interval), "message": msg})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_code": dc.UserCode, "device_code": dc.DeviceCode, "verification_uri": uri,
			"expires_in": dc.ExpiresIn, "interval": dc.Interval, "message": msg})
	}
}

// pageStyle is the sign-in pages' one stylesheet, inline: aksid's pages
// load nothing from anywhere.
const pageStyle = `<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f2f2f2;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem 2.5rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;font-weight:600;margin:0 0 1rem}
label{display:block;margin:1rem 0 .25rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #666}
button{margin-top:1.25rem;padding:.5rem 1.5rem;font-size:1rem;border:0;background:#0067b8;color:#fff;cursor:pointer}
button.secondary{background:#ccc;color:#000;margin-left:.5rem}
button:focus,input:focus{outline:3px solid #ffb900}
.error{color:#a80000;margin:.5rem 0}
.brand{color:#555;font-size:.9rem;margin-bottom:1.5rem}
</style>`

var devicePage = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – aksid</title>
` + pageStyle + `</head><body><main>
<div class="brand">aksid · local Entra ID</div>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if eq .Step "code"}}
<p>Enter the code displayed on your app or device.</p>
<form method="post" action="/devicelogin">
<label for="otc">Code</label>
<input type="text" id="otc" name="otc" autocomplete="off" autofocus required value="{{.Code}}">
<button type="submit">Next</button>
</form>
{{else if eq .Step "signin"}}
<p>You are signing in to <strong>{{.Client}}</strong> on another device.</p>
<form method="post" action="/devicelogin">
<input type="hidden" name="otc" value="{{.Code}}">
<label for="username">Email or user name</label>
<input type="text" id="username" name="username" autocomplete="username" autofocus required value="{{.User}}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<p>Are you trying to sign in to <strong>{{.Client}}</strong>? Only continue if you got this code from a device or app you trust.</p>
<button type="submit" name="decision" value="approve">Continue</button><button type="submit" name="decision" value="decline" class="secondary">Cancel</button>
</form>
{{else if eq .Step "consent"}}
` + consentForm + `
{{else if eq .Step "mfa"}}
<p>Enter the verification code you were given for your account.</p>
<form method="post" action="/devicelogin">
<input type="hidden" name="otc" value="{{.Code}}">
<input type="hidden" name="flow" value="{{.Flow}}">
<label for="verification">Verification code</label>
<input type="text" id="verification" name="verification" inputmode="numeric" autocomplete="one-time-code" autofocus required>
<button type="submit">Verify</button>
</form>
{{else}}
<p>{{.Done}}</p>
{{end}}
</main></body></html>`))

type devicePageData struct {
	Title, Step, Code, Client, User, Error, Done, Flow string
	Action                                             string // the consent form's
	Consent                                            *consentData
}

// deviceLogin is the page a person opens on another device: the code,
// then the name and password, then the choice to continue or cancel. It
// is served by aksid alone: no script, no assets from anywhere.
func (h *Handler) deviceLogin(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	page := devicePageData{Title: "Enter code", Step: "code"}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			page.Error = "The form could not be read."
			_ = devicePage.Execute(w, page)
			return
		}
		page = h.deviceStep(r)
	} else if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		page.Error = "Use the form on this page."
	}
	_ = devicePage.Execute(w, page)
}

func (h *Handler) deviceStep(r *http.Request) devicePageData {
	ctx := r.Context()
	code := strings.TrimSpace(r.PostForm.Get("otc"))
	prompt, err := h.device.LookupUserCode(ctx, code)
	if err != nil {
		return devicePageData{Title: "Enter code", Step: "code", Code: code,
			Error: "That code didn't work. Check the code and try again; codes expire after 15 minutes and work once."}
	}
	user, pass := r.PostForm.Get("username"), r.PostForm.Get("password")
	signin := devicePageData{Title: "Sign in", Step: "signin", Code: code, Client: prompt.ClientName, User: user}
	flow, consentFlow := r.PostForm.Get("flow"), r.PostForm.Get("consentflow")
	if flow == "" && consentFlow == "" && user == "" && pass == "" {
		return signin
	}
	declined := r.PostForm.Get("decision") == "decline" || (consentFlow != "" && r.PostForm.Get("decision") != "accept")
	switch {
	case consentFlow != "":
		err = h.device.ApproveDeviceCodeConsent(ctx, code, consentFlow, !declined, r.PostForm.Get("everyone") == "on")
	case flow != "":
		err = h.device.ApproveDeviceCodeSecondFactor(ctx, code, flow, r.PostForm.Get("verification"))
	case r.PostForm.Get("decision") == "decline":
		err = h.device.DeclineDeviceCode(ctx, code, user, pass)
	default:
		err = h.device.ApproveDeviceCode(ctx, code, user, pass)
	}
	var se *sts.Error
	var second *sts.SecondFactorRequired
	var consent *sts.ConsentRequired
	switch {
	case errors.As(err, &second):
		return devicePageData{Title: "Verify your identity", Step: "mfa", Code: code, Client: prompt.ClientName, Flow: second.Flow}
	case errors.As(err, &consent):
		c := consentPage(consent)
		c.Hidden["otc"] = code
		return devicePageData{Title: "Permissions requested", Step: "consent", Code: code, Client: prompt.ClientName, Action: "/devicelogin", Consent: c}
	case errors.As(err, &se) && se.Code == 53003:
		return devicePageData{Title: "You cannot access this right now", Step: "done", Error: signInRefusal(se),
			Done: "Your sign-in was successful, but does not meet the criteria to access this resource. The device that asked will be told."}
	case errors.As(err, &se) && se.Code == 500121 && flow != "":
		return devicePageData{Title: "Verify your identity", Step: "mfa", Code: code, Client: prompt.ClientName, Flow: flow, Error: signInRefusal(se)}
	case errors.As(err, &se):
		signin.Error = signInRefusal(se)
		return signin
	case err != nil:
		return devicePageData{Title: "Enter code", Step: "code", Error: "That code is no longer valid."}
	case declined:
		return devicePageData{Title: "Sign-in canceled", Step: "done", Done: "You have canceled the sign-in on the other device. You may now close this window."}
	}
	return devicePageData{Title: prompt.ClientName, Step: "done",
		Done: "You have signed in to " + prompt.ClientName + " on your device. You may now close this window."}
}

// signInRefusal is what the page tells a person about a refused sign-in,
// with the code Entra's pages show under "Troubleshooting details".
func signInRefusal(se *sts.Error) string {
	msg := "Your account or password is incorrect."
	switch se.Code {
	case 50053:
		msg = "Your account is temporarily locked to prevent unauthorized use. Try again later."
	case 50057:
		msg = "Your account has been disabled. Contact your administrator."
	case 53003:
		msg = "Access has been blocked by Conditional Access policies."
	case 500121:
		msg = "That verification code didn't work. Try again."
	case 90094:
		msg = "This app needs a permission that only an administrator can grant. Sign in with an administrator's account, or ask one to grant it."
	case 650053, 650057:
		msg = se.Description
	}
	return msg + " (AADSTS" + strconv.Itoa(se.Code) + ")"
}
