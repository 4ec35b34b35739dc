package login

import "github.com/aksid/aksid/internal/sts"

// consentForm is the consent prompt both sign-in pages show; each page
// adds its own hidden fields (.Hidden) to carry the flow on.
const consentForm = `<p><strong>{{.Consent.Client}}</strong> wants to access <strong>{{.Consent.Resource}}</strong> for you. It asks to:</p>
<ul>{{range .Consent.Permissions}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Consent.Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{if .Consent.Everyone}}<label><input type="checkbox" name="everyone"> Consent on behalf of your organization</label>
{{end}}<p>Accepting lets this app use what is listed above. You can change this later in the directory (oauth2PermissionGrants).</p>
<button type="submit" name="decision" value="accept" autofocus>Accept</button><button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</form>`

// consentData is what the consent prompt shows: who asks, of which
// resource, for what (in words an administrator or a user reads).
type consentData struct {
	Client, Resource string
	Permissions      []string
	Everyone         bool
	Hidden           map[string]string
}

func consentPage(c *sts.ConsentRequired) *consentData {
	d := &consentData{Client: c.Client, Resource: c.Resource, Everyone: c.Everyone, Hidden: map[string]string{"consentflow": c.Flow}}
	for _, p := range c.Permissions {
		text := p.UserConsentDisplayName
		if c.Everyone || text == "" {
			text = p.AdminConsentDisplayName
		}
		if text == "" {
			text = p.Value
		}
		d.Permissions = append(d.Permissions, text+" ("+p.Value+")")
	}
	return d
}
