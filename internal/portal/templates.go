package portal

import "html/template"

// nav is the views, in the header's order.
type navItem struct{ Key, Path, Name string }

var nav = []navItem{{"apps", "/", "Applications"}, {"users", "/portal/users", "Users"}, {"groups", "/portal/groups", "Groups"},
	{"roles", "/portal/roles", "Role assignments"}, {"identities", "/portal/identities", "Managed identities"},
	{"clusters", "/portal/clusters", "Clusters"}, {"clock", "/portal/clock", "Clock"}}

// page parses a signed-in view: the header, its body, the footer.
func page(name, body string) *template.Template {
	return template.Must(template.New(name).Funcs(template.FuncMap{"navs": func() []navItem { return nav }, "deref": func(b *bool) bool { return *b }}).Parse(head + body + foot))
}

// style is the portal's one stylesheet, inline: the portal loads nothing
// from anywhere, as the sign-in page.
const style = `<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f2f2f2;margin:0;color:#111}
header{background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.2);padding:.75rem 2rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header .brand{font-weight:600;margin-right:1rem}
nav a{margin-right:1rem;color:#0067b8}
nav a[aria-current=page]{font-weight:600;color:#111}
header form{margin-left:auto}
main{max-width:64rem;margin:1.5rem auto;background:#fff;padding:1.5rem 2rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;font-weight:600;margin:0 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .25rem}
.meta{color:#555;font-size:.9rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
.track{position:relative;height:.8rem;background:#eee;min-width:10rem}
.bar{position:absolute;top:0;bottom:0}
.now{position:absolute;top:-.2rem;bottom:-.2rem;width:2px;background:#111}
.expired .bar{background:#a80000}.expiring .bar{background:#c47f00}.valid .bar{background:#107c10}
.state{font-weight:600}.expired .state{color:#a80000}.expiring .state{color:#8a5a00}.valid .state{color:#107c10}
label{display:block;margin:1rem 0 .25rem}
input[type=text]{padding:.5rem;font-size:1rem;border:1px solid #666}
button{padding:.5rem 1.5rem;font-size:1rem;border:0;background:#0067b8;color:#fff;cursor:pointer}
button.secondary{background:#ccc;color:#000}
button:disabled{background:#ccc;color:#555;cursor:not-allowed}
a:focus,button:focus,input:focus{outline:3px solid #ffb900}
.error{color:#a80000}.note{background:#eef6fc;padding:.5rem}
.ok{color:#107c10;font-weight:600}.bad{color:#a80000;font-weight:600}
code,.id{font-family:ui-monospace,Consolas,monospace;font-size:.85rem;word-break:break-all}
.secret{font-family:ui-monospace,Consolas,monospace;font-size:1.1rem;background:#fff4ce;padding:.5rem;word-break:break-all}
label.inline{display:inline;margin-right:1rem}
.skip{position:absolute;left:-100rem}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
</style>`

const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.C.Title}} – aksid portal</title>
` + style + `</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">aksid portal</span>
<nav aria-label="Views">{{range $n := navs}}<a href="{{$n.Path}}"{{if eq $.C.Nav $n.Key}} aria-current="page"{{end}}>{{$n.Name}}</a>{{end}}</nav>
<span class="meta">aksid's clock: <time id="aksid-now">{{.C.Now}}</time></span>
<form method="post" action="/portal/signout"><input type="hidden" name="csrf" value="{{.C.CSRF}}"><span class="meta">{{.C.User}}</span> <button type="submit" class="secondary">Sign out</button></form>
</header>
<main id="main">
<h1>{{.C.Title}}</h1>
{{if .C.Error}}<p class="error" role="alert">{{.C.Error}}</p>{{end}}
`

const foot = `</main></body></html>`

var appsPage = page("apps", `
<p>Every application's secrets and certificates on aksid's clock: <strong>expired</strong>, <strong>expiring</strong> within 30 days, or <strong>valid</strong>.</p>
{{if not .CanReset}}<p id="why-reset" class="meta">Only a Global Administrator can reset an application's secret.</p>{{end}}
{{range .Apps}}
<section aria-labelledby="app-{{.ObjectID}}">
<h2 id="app-{{.ObjectID}}">{{.Name}}</h2>
<p class="meta">Application (client) ID {{.AppID}}</p>
{{if .Creds}}
<table>
<caption class="skip">Credentials of {{.Name}}</caption>
<thead><tr><th scope="col">Credential</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Starts</th><th scope="col">Ends</th><th scope="col">Timeline</th></tr></thead>
<tbody>
{{range .Creds}}<tr class="{{.State}}" data-key-id="{{.KeyID}}">
<td>{{.Name}}</td><td>{{.Kind}}</td><td><span class="state">{{.State}}</span> <span class="meta">{{.Left}}</span></td><td>{{.Start}}</td><td>{{.End}}</td>
<td><div class="track" aria-hidden="true"><div class="bar" style="left:{{.BarLeft}}%;width:{{.BarWidth}}%"></div><div class="now" style="left:{{.NowAt}}%"></div></div></td>
</tr>
{{end}}</tbody></table>
{{else}}<p class="meta">No secrets or certificates.</p>{{end}}
<form method="post" action="/portal/applications/reset" data-app="{{.Name}}">
<input type="hidden" name="csrf" value="{{$.C.CSRF}}"><input type="hidden" name="app" value="{{.ObjectID}}">
<label class="inline"><input type="checkbox" name="keep"{{if not $.CanReset}} disabled{{end}}> Keep the other secrets</label>
<button type="submit" class="reset"{{if not $.CanReset}} disabled aria-describedby="why-reset"{{end}}>Reset secret of {{.Name}}</button>
</form>
</section>
{{else}}<p>No applications are registered in this tenant.</p>
{{end}}
`)

var clockPage = page("clock", `
<p>aksid's clock decides every credential's expiry. Tokens keep wall time, as real clients check them.</p>
{{if .Moved}}<p class="note" role="status">The clock moved forward by {{.Moved}}.</p>{{end}}
<form method="post" action="/portal/clock">
<input type="hidden" name="csrf" value="{{.C.CSRF}}">
<label for="advance">Move the clock forward by</label>
<input type="text" id="advance" name="advance" value="1d" required{{if not .CanMove}} disabled aria-describedby="why"{{end}}>
<button type="submit" id="move"{{if not .CanMove}} disabled aria-describedby="why"{{end}}>Move the clock</button>
{{if not .CanMove}}<p id="why" class="meta">Only a Global Administrator can move the clock.</p>{{end}}
</form>
`)

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aksid portal</title>
` + style + `</head><body><main>
<h1>aksid portal</h1>
<p class="error" role="alert">{{.Message}}</p>
<p><a href="/">Open the portal</a></p>
</main></body></html>`))

var signedOutPage = template.Must(template.New("out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out – aksid portal</title>
` + style + `</head><body><main>
<h1>You are signed out</h1>
<p><a href="/">Sign in again</a></p>
</main></body></html>`))
