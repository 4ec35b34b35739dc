package graph

import (
	"context"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
)

var userEntity = entity{name: "User", props: props(map[string]propKind{
	"accountEnabled": kBool, "displayName": kString, "mailNickname": kString, "userPrincipalName": kString,
	"passwordProfile": kObject, "passwordPolicies": kString, "givenName": kString, "surname": kString,
	"jobTitle": kString, "department": kString, "officeLocation": kString, "mobilePhone": kString,
	"businessPhones": kStringArray, "usageLocation": kString, "preferredLanguage": kString,
	"onPremisesImmutableId": kString, "mail": kString, "companyName": kString, "employeeId": kString,
	"city": kString, "country": kString, "state": kString, "streetAddress": kString, "postalCode": kString,
	"otherMails": kStringArray, "userType": kString,
}), typed: map[string]bool{"accountEnabled": true, "displayName": true, "mailNickname": true,
	"userPrincipalName": true, "passwordProfile": true}}

var userSchema = odata.Schema{Type: "user", Props: map[string]odata.Kind{
	"id": odata.String, "userPrincipalName": odata.String, "displayName": odata.String, "mail": odata.String,
	"mailNickname": odata.String, "accountEnabled": odata.Bool, "givenName": odata.String, "surname": odata.String,
	"userType": odata.String, "jobTitle": odata.String, "otherMails": odata.Strings,
	"passwordProfile": odata.Unfilterable, "businessPhones": odata.Unfilterable,
}}

func userValues(u directory.User) odata.Values {
	return odata.Values{"id": u.ObjectID, "userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName,
		"mail": extraString(u.Extra, "mail"), "mailNickname": u.MailNickname, "accountEnabled": u.AccountEnabled,
		"givenName": extraString(u.Extra, "givenName"), "surname": extraString(u.Extra, "surname"),
		"userType": extraStringOr(u.Extra, "userType", "Member"), "jobTitle": extraString(u.Extra, "jobTitle"),
		"otherMails": extraStrings(u.Extra, "otherMails")}
}

// passwordProfile is the only place Graph takes a user's password.
func (e entity) password(b body) (*string, error) {
	raw, ok := b["passwordProfile"]
	if !ok {
		return nil, nil
	}
	var pp struct {
		Password                             *string `json:"password"`
		ForceChangePasswordNextSignIn        *bool   `json:"forceChangePasswordNextSignIn"`
		ForceChangePasswordNextSignInWithMfa *bool   `json:"forceChangePasswordNextSignInWithMfa"`
	}
	if string(raw) == "null" || strictDecode(raw, &pp) != nil {
		return nil, e.invalid("passwordProfile")
	}
	return pp.Password, nil
}

func (h *Handler) listUsers(c *call) error {
	return list(c, listing[directory.User]{set: "users", schema: userSchema, values: userValues, render: userJSON,
		indexed: []string{directory.ByID, directory.ByDisplayName, directory.ByUserPrincipalName, directory.ByMail},
		page: func(ctx context.Context, q directory.Query[directory.User]) (directory.Page[directory.User], error) {
			return h.dir.UserPage(ctx, c.tenant, q)
		}})
}

func (h *Handler) createUser(c *call) error {
	e := userEntity
	b, err := readBody(c)
	if err != nil {
		return err
	}
	extra, err := e.check(b)
	if err != nil {
		return err
	}
	spec := directory.UserSpec{Extra: extra}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"userPrincipalName", &spec.UserPrincipalName}, {"displayName", &spec.DisplayName}, {"mailNickname", &spec.MailNickname}} {
		v, err := e.str(b, f.name)
		if err != nil {
			return err
		}
		if v == nil || *v == "" {
			return e.invalid(f.name)
		}
		*f.dst = *v
	}
	enabled, err := e.boolean(b, "accountEnabled")
	if err != nil {
		return err
	}
	if enabled == nil {
		return e.invalid("accountEnabled")
	}
	spec.Disabled = !*enabled
	pw, err := e.password(b)
	if err != nil {
		return err
	}
	if pw == nil {
		return e.invalid("passwordProfile")
	}
	spec.Password = *pw
	u, err := h.dir.CreateUser(c.ctx(), c.tenant, spec)
	if err != nil {
		return err
	}
	return c.created("users/"+u.ObjectID, c.entityJSON("users", userJSON(u)))
}

func (h *Handler) getUser(c *call) error {
	u, err := h.dir.User(c.ctx(), c.tenant, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.ok(c.entityJSON("users", userJSON(u)))
}

func (h *Handler) updateUser(c *call) error {
	e := userEntity
	b, err := readBody(c)
	if err != nil {
		return err
	}
	extra, err := e.check(b)
	if err != nil {
		return err
	}
	if _, ok := b["userPrincipalName"]; ok {
		return badRequest("Changing userPrincipalName is not supported by aksid.")
	}
	p := directory.UserPatch{Extra: extra}
	if p.DisplayName, err = e.str(b, "displayName"); err != nil {
		return err
	}
	if p.MailNickname, err = e.str(b, "mailNickname"); err != nil {
		return err
	}
	if p.AccountEnabled, err = e.boolean(b, "accountEnabled"); err != nil {
		return err
	}
	if p.Password, err = e.password(b); err != nil {
		return err
	}
	if _, err := h.dir.UpdateUser(c.ctx(), c.tenant, c.r.PathValue("id"), p); err != nil {
		return err
	}
	return c.noContent()
}

func (h *Handler) deleteUser(c *call) error {
	if err := h.dir.DeleteUser(c.ctx(), c.tenant, c.r.PathValue("id")); err != nil {
		return err
	}
	return c.noContent()
}

// revokeSignInSessions ends the user's refresh tokens; Graph answers
// with an Edm.Boolean.
func (h *Handler) revokeSignInSessions(c *call) error {
	if err := h.dir.RevokeSignInSessions(c.ctx(), c.tenant, c.r.PathValue("id")); err != nil {
		return err
	}
	return c.ok(obj{"@odata.context": c.context("Edm.Boolean"), "value": true})
}

// me is the signed-in user; app-only tokens have none.
func (h *Handler) me(c *call) error {
	if c.p.Type == "app" {
		return badRequestCode("BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	u, err := h.dir.User(c.ctx(), c.tenant, c.p.ObjectID)
	if err != nil {
		return err
	}
	return c.ok(c.entityJSON("users", userJSON(u)))
}
