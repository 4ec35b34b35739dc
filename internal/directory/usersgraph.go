package directory

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"github.com/aksid/aksid/internal/store"
)

// UserPatch changes a user; nil fields are left alone.
type UserPatch struct {
	DisplayName    *string
	AccountEnabled *bool
	MailNickname   *string
	Password       *string
	Extra          Extra // a JSON null removes the property
}

// CreateUser creates a user in tenantID, enforcing Entra's rules: the
// UPN's domain is one of the tenant's, the UPN is unique and the
// password meets the complexity policy.
func (d *Directory) CreateUser(ctx context.Context, tenantID string, spec UserSpec) (User, error) {
	local, domain, ok := strings.Cut(spec.UserPrincipalName, "@")
	if !ok || local == "" || strings.ContainsAny(spec.UserPrincipalName, " \\\"<>()[];:,") || len(spec.UserPrincipalName) > 113 {
		return User{}, invalid("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
	}
	if strings.TrimSpace(spec.DisplayName) == "" {
		return User{}, invalid("Invalid value specified for property 'displayName' of resource 'User'.")
	}
	t, err := d.Tenant(ctx, tenantID)
	if err != nil {
		return User{}, err
	}
	if !containsFold(t.Domains, domain) {
		return User{}, invalid("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
	}
	if !complexEnough(spec.Password) {
		return User{}, invalid("The specified password does not comply with password complexity requirements. Please provide a different password.")
	}
	hash, err := d.hashPassword(spec.Password)
	if err != nil {
		return User{}, err
	}
	u := User{ObjectID: d.newID(), TenantID: tenantID, UserPrincipalName: spec.UserPrincipalName,
		DisplayName: spec.DisplayName, AccountEnabled: !spec.Disabled, PasswordHash: hash, Created: d.clk.Now().UTC(),
		MailNickname: spec.MailNickname, Extra: mergeExtra(nil, spec.Extra)}
	err = d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Create(kindUserUPN, strings.ToLower(u.UserPrincipalName), []byte(tenantID+"/"+u.ObjectID)); err != nil {
			if errors.Is(err, store.ErrExists) {
				return conflict("Another object with the same value for property userPrincipalName already exists.")
			}
			return err
		}
		return store.CreateJSON(tx, kindUser, tenantID+"/"+u.ObjectID, u)
	})
	return u, err
}

// complexEnough is Entra's cloud password policy: 8 to 256 characters
// from at least three of lower case, upper case, digits and symbols.
func complexEnough(pw string) bool {
	if len(pw) < 8 || len(pw) > 256 {
		return false
	}
	var lower, upper, digit, other int
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return lower+upper+digit+other >= 3
}

// Users returns the users of tenantID.
func (d *Directory) Users(ctx context.Context, tenantID string) ([]User, error) {
	var out []User
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[User](tx, kindUser, tenantID+"/")
		return err
	})
	return out, err
}

// User finds a user of tenantID by object ID or user principal name.
func (d *Directory) User(ctx context.Context, tenantID, idOrUPN string) (User, error) {
	var u User
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		u, err = userByIDOrUPN(tx, tenantID, idOrUPN)
		return err
	})
	return u, err
}

func userByIDOrUPN(tx store.Tx, tenantID, idOrUPN string) (User, error) {
	key := tenantID + "/" + strings.ToLower(idOrUPN)
	if strings.Contains(idOrUPN, "@") {
		b, err := tx.Get(kindUserUPN, strings.ToLower(idOrUPN))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return User{}, missing(ErrUserNotFound, idOrUPN)
			}
			return User{}, err
		}
		key = string(b)
	}
	var u User
	if err := store.GetJSON(tx, kindUser, key, &u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return User{}, missing(ErrUserNotFound, idOrUPN)
		}
		return User{}, err
	}
	if u.TenantID != tenantID {
		return User{}, missing(ErrUserNotFound, idOrUPN)
	}
	return u, nil
}

// UpdateUser applies p to a user of tenantID.
func (d *Directory) UpdateUser(ctx context.Context, tenantID, idOrUPN string, p UserPatch) (User, error) {
	if p.DisplayName != nil && strings.TrimSpace(*p.DisplayName) == "" {
		return User{}, invalid("Invalid value specified for property 'displayName' of resource 'User'.")
	}
	var hash string
	if p.Password != nil {
		if !complexEnough(*p.Password) {
			return User{}, invalid("The specified password does not comply with password complexity requirements. Please provide a different password.")
		}
		var err error
		if hash, err = d.hashPassword(*p.Password); err != nil {
			return User{}, err
		}
	}
	var out User
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := userByIDOrUPN(tx, tenantID, idOrUPN)
		if err != nil {
			return err
		}
		if p.DisplayName != nil {
			u.DisplayName = *p.DisplayName
		}
		if p.AccountEnabled != nil {
			u.AccountEnabled = *p.AccountEnabled
		}
		if p.MailNickname != nil {
			u.MailNickname = *p.MailNickname
		}
		if hash != "" {
			// A new password ends the user's sessions, as in Entra.
			u.PasswordHash, u.SessionsValidFrom = hash, d.clk.Now()
		}
		u.Extra = mergeExtra(u.Extra, p.Extra)
		out = u
		return store.PutJSON(tx, kindUser, tenantID+"/"+u.ObjectID, u)
	})
	return out, err
}

// RevokeSignInSessions makes every refresh token the user holds invalid
// (Graph's revokeSignInSessions); new sign-ins are not affected.
func (d *Directory) RevokeSignInSessions(ctx context.Context, tenantID, idOrUPN string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := userByIDOrUPN(tx, tenantID, idOrUPN)
		if err != nil {
			return err
		}
		u.SessionsValidFrom = d.clk.Now()
		return store.PutJSON(tx, kindUser, tenantID+"/"+u.ObjectID, u)
	})
}

// DeleteUser removes a user of tenantID and its memberships.
func (d *Directory) DeleteUser(ctx context.Context, tenantID, idOrUPN string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := userByIDOrUPN(tx, tenantID, idOrUPN)
		if err != nil {
			return err
		}
		if err := tx.Delete(kindUser, tenantID+"/"+u.ObjectID); err != nil {
			return err
		}
		if err := deleteIfPresent(tx, kindUserUPN, strings.ToLower(u.UserPrincipalName)); err != nil {
			return err
		}
		if err := deleteIfPresent(tx, kindLockout, tenantID+"/"+u.ObjectID); err != nil {
			return err
		}
		return dropEdges(tx, tenantID, u.ObjectID)
	})
}
