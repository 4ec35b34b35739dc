// Package bootstrap creates the tenant, subscription and admin identities a fresh aksid starts with.
package bootstrap

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/store"
)

// Stable identifiers, the same in every aksid, so docs and scripts can
// name them.
const (
	TenantID       = "22e5b5db-8b5f-42f5-80ec-f411e716d348"
	TenantDomain   = "aksid.local"
	SubscriptionID = "35349980-0f19-46d4-b35c-857c4a1e327e"
	AdminAppID     = "27bc6edf-8ead-4a34-9237-bc4fbd4b1cda"
	AdminAppName   = "aksid-admin"
	AdminUPN       = "admin@aksid.local"

	// OwnerRoleID is Azure's built-in Owner role definition.
	OwnerRoleID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"

	// adminSecretLifetime keeps the bootstrap credential valid however far
	// the clock is moved in tests (99 years).
	adminSecretLifetime = 99 * 365 * 24 * time.Hour
)

// KindSubscription is the store kind of subscriptions, which resources reads.
const KindSubscription = "subscription"

// Deriver derives per-data-directory secret material from the master key.
type Deriver interface {
	Derive(label string) []byte
}

// Credentials are the bootstrap identities' sign-in details.
type Credentials struct {
	TenantID       string
	SubscriptionID string
	ClientID       string
	ClientSecret   string
	AdminUPN       string
	AdminPassword  string
}

// CredentialsFor derives the bootstrap credentials. They are never stored
// in clear: the store keeps hashes and `aksid env` derives them again.
func CredentialsFor(k Deriver) Credentials {
	secret, _ := directory.SecretFrom(bytes.NewReader(append(k.Derive("bootstrap/sp-secret"), k.Derive("bootstrap/sp-secret/2")...)))
	pw := base64.RawURLEncoding.EncodeToString(k.Derive("bootstrap/admin-password"))[:20]
	return Credentials{TenantID: TenantID, SubscriptionID: SubscriptionID, ClientID: AdminAppID,
		ClientSecret: secret, AdminUPN: AdminUPN, AdminPassword: "Ak1-" + pw}
}

// Subscription is the ARM subscription record.
type Subscription struct {
	SubscriptionID string `json:"subscriptionId"`
	DisplayName    string `json:"displayName"`
	TenantID       string `json:"tenantId"`
	State          string `json:"state"`
}

// Ensure creates whatever of the bootstrap state is missing.
func Ensure(ctx context.Context, st store.Store, dir *directory.Directory, clk clock.Clock, k Deriver) (Credentials, error) {
	creds := CredentialsFor(k)
	if err := dir.EnsureTenant(ctx, directory.Tenant{ID: TenantID, DisplayName: "aksid", DefaultDomain: TenantDomain,
		Domains: []string{TenantDomain}}); err != nil {
		return creds, err
	}
	if err := dir.EnsureFirstParty(ctx, TenantID); err != nil {
		return creds, err
	}
	sp, err := dir.ServicePrincipal(ctx, TenantID, AdminAppID)
	if errors.Is(err, directory.ErrPrincipalNotFound) {
		var reg directory.Registration
		reg, err = dir.CreateApplication(ctx, TenantID, directory.ApplicationSpec{AppID: AdminAppID, DisplayName: AdminAppName})
		sp = reg.SP
	}
	if err != nil {
		return creds, err
	}
	start := clk.Now().UTC()
	if err := dir.EnsurePassword(ctx, AdminAppID, directory.PasswordSpec{DisplayName: "bootstrap",
		Start: start, End: start.Add(adminSecretLifetime)}, creds.ClientSecret); err != nil {
		return creds, err
	}
	user, err := dir.EnsureUser(ctx, TenantID, directory.UserSpec{UserPrincipalName: AdminUPN, DisplayName: "aksid admin",
		Password: creds.AdminPassword})
	if err != nil {
		return creds, err
	}
	// Both admins are Global Administrators: Graph writes need a
	// directory role or an application permission.
	for _, oid := range []string{sp.ObjectID, user.ObjectID} {
		if err := dir.EnsureDirectoryRoleMember(ctx, TenantID, directory.GlobalAdministratorRole, oid); err != nil {
			return creds, err
		}
	}
	err = st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Get(KindSubscription, SubscriptionID)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		return creds, err
	}
	err = st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(KindSubscription, SubscriptionID); err == nil {
			return nil
		}
		if err := store.CreateJSON(tx, KindSubscription, SubscriptionID, Subscription{SubscriptionID: SubscriptionID,
			DisplayName: "aksid subscription", TenantID: TenantID, State: "Enabled"}); err != nil {
			return err
		}
		// The admins' Owner assignments; RBAC enforcement reads them later.
		scope := "/subscriptions/" + SubscriptionID
		for _, p := range []struct{ id, oid, typ string }{
			{"0e9a9a59-0fa5-4d0e-9a29-6a3c1e000001", sp.ObjectID, "ServicePrincipal"},
			{"0e9a9a59-0fa5-4d0e-9a29-6a3c1e000002", user.ObjectID, "User"},
		} {
			if err := rbac.InsertAssignment(tx, rbac.Assignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + p.id,
				Scope: scope, RoleDefinitionID: scope + "/providers/Microsoft.Authorization/roleDefinitions/" + OwnerRoleID,
				PrincipalID: p.oid, PrincipalType: p.typ, CreatedOn: start, UpdatedOn: start}); err != nil {
				return err
			}
		}
		return nil
	})
	return creds, err
}
