package directory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// Consent is what a client may do for a user on a resource without
// asking: Microsoft's own client and resource pairs, and an application
// calling its own API, need no grant (Implicit); otherwise the scope
// values that grants for every user or for this one, and the resource's
// preauthorization of the client, allow.
type Consent struct {
	Implicit bool
	Scopes   []string
}

// Allows tells whether every value is consented to (case-insensitively).
func (c Consent) Allows(values []string) bool {
	for _, v := range values {
		if !slices.ContainsFunc(c.Scopes, func(s string) bool { return strings.EqualFold(s, v) }) {
			return false
		}
	}
	return true
}

// DelegatedConsent reads what userID (with everyone) has consented to on
// resource for client in tenantID.
func (d *Directory) DelegatedConsent(ctx context.Context, tenantID string, client Client, resource Resource, userID string) (Consent, error) {
	if client.App.FirstParty && resource.App.FirstParty {
		return Consent{Implicit: true}, nil
	}
	if strings.EqualFold(client.App.AppID, resource.App.AppID) {
		return Consent{Implicit: true, Scopes: enabledValues(resource.App.PermissionScopes())}, nil
	}
	c := Consent{Scopes: preauthorized(resource.App, client.App.AppID)}
	if client.SP.ObjectID == "" || resource.SP.ObjectID == "" {
		return c, nil
	}
	everyone := PermissionGrant{TenantID: tenantID, ClientID: client.SP.ObjectID, ResourceID: resource.SP.ObjectID}
	mine := everyone
	mine.PrincipalID = userID
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []PermissionGrant{everyone, mine} {
			var got PermissionGrant
			err := store.GetJSON(tx, kindGrant, tenantID+"/"+grantID(g), &got)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			for _, v := range strings.Fields(got.Scope) {
				if !c.Allows([]string{v}) {
					c.Scopes = append(c.Scopes, v)
				}
			}
		}
		return nil
	})
	return c, err
}

func enabledValues(scopes []PermissionScope) []string {
	var out []string
	for _, s := range scopes {
		if s.IsEnabled {
			out = append(out, s.Value)
		}
	}
	return out
}

// preauthorized is the scope values the resource's
// api.preAuthorizedApplications lets clientAppID use without consent.
func preauthorized(resource Application, clientAppID string) []string {
	var api struct {
		Pre []struct {
			AppID       string   `json:"appId"`
			Delegated   []string `json:"delegatedPermissionIds"`
			Permissions []string `json:"permissionIds"` // Graph beta's name
		} `json:"preAuthorizedApplications"`
	}
	raw, ok := resource.Extra["api"]
	if !ok || json.Unmarshal(raw, &api) != nil {
		return nil
	}
	exposed := resource.PermissionScopes()
	var out []string
	for _, p := range api.Pre {
		if !strings.EqualFold(p.AppID, clientAppID) {
			continue
		}
		for _, id := range append(p.Delegated, p.Permissions...) {
			if i := slices.IndexFunc(exposed, func(s PermissionScope) bool { return strings.EqualFold(s.ID, id) }); i >= 0 {
				out = append(out, exposed[i].Value)
			}
		}
	}
	return out
}

// UnknownScopeError is RequestedPermissions' answer for a scope value
// the resource does not expose.
type UnknownScopeError struct{ Value string }

func (e *UnknownScopeError) Error() string {
	return "directory: the resource exposes no scope " + e.Value
}

// RequestedPermissions is what a consent prompt lists: the resource's
// permissions named by values or, when values is empty (".default", v1's
// resource), those the client's registration asks of the resource
// (requiredResourceAccess).
func RequestedPermissions(client, resource Application, values []string) ([]PermissionScope, error) {
	exposed := resource.PermissionScopes()
	var out []PermissionScope
	add := func(i int) {
		if !slices.ContainsFunc(out, func(p PermissionScope) bool { return p.ID == exposed[i].ID }) {
			out = append(out, exposed[i])
		}
	}
	for _, v := range values {
		i := slices.IndexFunc(exposed, func(s PermissionScope) bool { return s.IsEnabled && strings.EqualFold(s.Value, v) })
		if i < 0 {
			return nil, &UnknownScopeError{Value: v}
		}
		add(i)
	}
	if len(values) > 0 {
		return out, nil
	}
	var required []requiredAccess
	if raw, ok := client.Extra["requiredResourceAccess"]; ok {
		_ = json.Unmarshal(raw, &required)
	}
	for _, ra := range required {
		if !strings.EqualFold(ra.ResourceAppID, resource.AppID) {
			continue
		}
		for _, acc := range ra.ResourceAccess {
			if acc.Type != "Scope" {
				continue
			}
			if i := slices.IndexFunc(exposed, func(s PermissionScope) bool { return s.IsEnabled && strings.EqualFold(s.ID, acc.ID) }); i >= 0 {
				add(i)
			}
		}
	}
	return out, nil
}

// GrantConsent records a person's consent on a prompt: scopes on the
// resource for the client, for userID alone or (an administrator's
// choice) for every user. Missing service principals are created, as
// Entra does on consent.
func (d *Directory) GrantConsent(ctx context.Context, tenantID, clientAppID, resourceAppID, userID string, scopes []string, everyone bool) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		client, err := d.appWithPrincipal(tx, tenantID, strings.ToLower(clientAppID))
		if err != nil {
			return err
		}
		res, err := d.appWithPrincipal(tx, tenantID, strings.ToLower(resourceAppID))
		if err != nil {
			return err
		}
		g := PermissionGrant{TenantID: tenantID, ClientID: client.sp.ObjectID, ResourceID: res.sp.ObjectID,
			ConsentType: ConsentAllPrincipals, Scope: strings.Join(scopes, " ")}
		if !everyone {
			g.ConsentType, g.PrincipalID = ConsentPrincipal, userID
		}
		return mergeGrant(tx, g)
	})
}
