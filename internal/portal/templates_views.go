package portal

var usersPage = page("users", `
<table>
<thead><tr><th scope="col">Name</th><th scope="col">User principal name</th><th scope="col">Sign-in</th><th scope="col">Object ID</th></tr></thead>
<tbody>
{{range .Users}}<tr data-upn="{{.UserPrincipalName}}"><td>{{.DisplayName}}</td><td>{{.UserPrincipalName}}</td>
<td>{{if .AccountEnabled}}{{if deref .AccountEnabled}}<span class="ok">enabled</span>{{else}}<span class="bad">disabled</span>{{end}}{{end}}</td><td class="id">{{.ID}}</td></tr>
{{else}}<tr><td colspan="4">No users.</td></tr>{{end}}
</tbody></table>
`)

var groupsPage = page("groups", `
{{range .Groups}}
<section aria-labelledby="group-{{.ID}}" data-group="{{.DisplayName}}">
<h2 id="group-{{.ID}}">{{.DisplayName}}</h2>
<p class="meta">Object ID <span class="id">{{.ID}}</span></p>
{{if .Members}}<table>
<caption class="skip">Members of {{.DisplayName}}</caption>
<thead><tr><th scope="col">Member</th><th scope="col">Kind</th><th scope="col">Identifies as</th></tr></thead>
<tbody>{{range .Members}}<tr class="member"><td>{{.DisplayName}}</td><td>{{.Kind}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody></table>
{{else}}<p class="meta">No members.</p>{{end}}
</section>
{{else}}<p>No groups.</p>
{{end}}
`)

var rolesPage = page("roles", `
<p>Azure role assignments you can read, by the scope they are made at. Each grants its role there and everywhere under it.</p>
{{range .Subs}}
<section aria-labelledby="sub-{{.SubscriptionID}}">
<h2 id="sub-{{.SubscriptionID}}">Subscription {{.DisplayName}}</h2>
<p class="meta">ID <span class="id">{{.SubscriptionID}}</span></p>
{{if .Denied}}<p class="meta">You cannot read role assignments here: {{.Denied}}</p>{{end}}
{{range .Scopes}}
<h3 class="id">{{.Scope}}</h3>
<table data-scope="{{.Scope}}">
<caption class="skip">Role assignments at {{.Scope}}</caption>
<thead><tr><th scope="col">Role</th><th scope="col">Assigned to</th><th scope="col">Kind</th><th scope="col">Identifies as</th></tr></thead>
<tbody>{{range .Rows}}<tr class="assignment"><td>{{.Role}}</td><td>{{.Principal}}</td><td>{{.Kind}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody></table>
{{end}}
</section>
{{else}}<p>You have no role in any subscription.</p>
{{end}}
`)

var identitiesPage = page("identities", `
<h2>User-assigned identities</h2>
<table>
<thead><tr><th scope="col">Identity</th><th scope="col">Resource group</th><th scope="col">Client ID</th><th scope="col">Principal ID</th><th scope="col">Bound to hosts</th></tr></thead>
<tbody>
{{range .Identities}}<tr data-identity="{{.Name}}"><td>{{.Name}}</td><td>{{.Group}}</td><td class="id">{{.Props.ClientID}}</td><td class="id">{{.Props.PrincipalID}}</td>
<td>{{range $i, $h := .Hosts}}{{if $i}}, {{end}}<span class="host">{{$h}}</span>{{else}}<span class="meta">none</span>{{end}}</td></tr>
{{else}}<tr><td colspan="5">{{if .Subscriptions}}No user-assigned identities you can read.{{else}}You have no role in any subscription.{{end}}</td></tr>{{end}}
</tbody></table>
<h2>Hosts</h2>
<p class="meta">Virtual machines and cluster nodes aksid emulates: what each may sign in as through its instance metadata service.</p>
<table>
<thead><tr><th scope="col">Host</th><th scope="col">Kind</th><th scope="col">System-assigned identity</th><th scope="col">User-assigned identities</th></tr></thead>
<tbody>
{{range .Hosts}}<tr data-host="{{.Name}}"><td>{{.Name}}</td><td>{{.Kind}}</td><td class="id">{{if .System}}{{.System}}{{else}}<span class="meta">none</span>{{end}}</td>
<td>{{range $i, $u := .Users}}{{if $i}}, {{end}}{{$u}}{{else}}<span class="meta">none</span>{{end}}</td></tr>
{{else}}<tr><td colspan="4">No hosts you can read.</td></tr>{{end}}
</tbody></table>
`)

var clustersPage = page("clusters", `
<p>Managed clusters you can read, the identities they act as, and the last cluster check: the cloud provider's calls made as the cluster's identity, with what Azure answered.</p>
{{if .Checked}}<p class="note" role="status">The cluster check of {{.Checked}} ran; its outcome is below.</p>{{end}}
{{range .Clusters}}
<section aria-labelledby="cluster-{{.Group}}-{{.Name}}" data-cluster="{{.Name}}">
<h2 id="cluster-{{.Group}}-{{.Name}}">{{.Name}}</h2>
<p class="meta">Resource group {{.Group}} · {{.Location}} · Kubernetes {{.Version}} · {{.State}}{{if .Power}} · {{.Power}}{{end}}</p>
<table><tbody>
<tr><th scope="row">Control plane signs in as</th><td>{{.Identity}}: <span class="id">{{.IdentityDetail}}</span></td></tr>
{{if .Kubelet}}<tr><th scope="row">Nodes (kubelet) sign in as</th><td class="id">{{.Kubelet}}</td></tr>{{end}}
<tr><th scope="row">Last cluster check</th><td class="last-check">{{if .Checked}}{{if .Check.Passed}}<span class="ok">passed</span>{{else}}<span class="bad">failed</span>{{end}} at {{.CheckedAt}} (aksid's clock){{else}}<span class="meta">never run</span>{{end}}</td></tr>
</tbody></table>
{{if .Checked}}<table class="check">
<caption class="skip">Last cluster check of {{.Name}}</caption>
<thead><tr><th scope="col">Tried</th><th scope="col">Outcome</th><th scope="col">Azure answered</th></tr></thead>
<tbody>{{range .Check.Results}}<tr><td>{{.Name}}</td><td>{{if .OK}}<span class="ok">allowed</span>{{else}}<span class="bad">refused</span>{{end}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody></table>{{end}}
<form method="post" action="/portal/clusters/check">
<input type="hidden" name="csrf" value="{{$.C.CSRF}}"><input type="hidden" name="cluster" value="{{.ID}}">
<button type="submit" class="check"{{if not .CanCheck}} disabled aria-describedby="why-{{.Group}}-{{.Name}}"{{end}}>Run a cluster check on {{.Name}}</button>
{{if not .CanCheck}}<p id="why-{{.Group}}-{{.Name}}" class="meta">Running a check needs write access to the cluster (Contributor or Azure Kubernetes Service Contributor Role).</p>{{end}}
</form>
</section>
{{else}}<p>{{if .Subscriptions}}No managed clusters you can read.{{else}}You have no role in any subscription.{{end}}</p>
{{end}}
`)

var secretPage = page("secret", `
<p role="status">{{.App.DisplayName}} has a new secret{{if .Ends}}, valid until {{.Ends}}{{end}}. Copy it now: it is not shown again.</p>
<h2 id="secret-label">Secret value</h2>
<p id="secret" class="secret" aria-labelledby="secret-label">{{.Secret.SecretText}}</p>
<p class="meta">Key ID <span class="id">{{.Secret.KeyID}}</span> · Application (client) ID <span class="id">{{.App.AppID}}</span></p>
<p><a href="/">Back to the applications</a></p>
`)
