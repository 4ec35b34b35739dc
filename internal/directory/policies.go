package directory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// Conditional-access controls aksid enforces.
const (
	// ControlBlockDeviceCode blocks the device-code flow, as an Entra
	// policy on the "authentication flows" condition with grant "block".
	ControlBlockDeviceCode = "blockDeviceCodeFlow"
)

// Policy is a tenant's conditional-access policy: a control applied to
// all users or to the listed ones (by object ID).
type Policy struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenantId"`
	DisplayName string    `json:"displayName"`
	Control     string    `json:"control"`
	AllUsers    bool      `json:"allUsers,omitempty"`
	Users       []string  `json:"users,omitempty"`
	Created     time.Time `json:"createdDateTime"`
}

// Applies tells whether p covers the user.
func (p Policy) Applies(userID string) bool {
	return p.AllUsers || slices.ContainsFunc(p.Users, func(u string) bool { return strings.EqualFold(u, userID) })
}

// PolicySpec describes a policy to create; Users are object IDs or UPNs.
type PolicySpec struct {
	DisplayName string
	Control     string
	AllUsers    bool
	Users       []string
}

// CreatePolicy stores a conditional-access policy. Named users are
// resolved to object IDs now, so a rename does not lift the policy.
func (d *Directory) CreatePolicy(ctx context.Context, tenantID string, spec PolicySpec) (Policy, error) {
	if spec.Control != ControlBlockDeviceCode {
		return Policy{}, invalid("Unknown control '%s'.", spec.Control)
	}
	if spec.AllUsers == (len(spec.Users) > 0) {
		return Policy{}, invalid("A policy applies either to all users or to listed users.")
	}
	p := Policy{ID: d.newID(), TenantID: tenantID, DisplayName: spec.DisplayName, Control: spec.Control,
		AllUsers: spec.AllUsers, Created: d.clk.Now().UTC()}
	if p.DisplayName == "" {
		p.DisplayName = "Block device code flow"
	}
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, name := range spec.Users {
			u, err := userByIDOrUPN(tx, tenantID, strings.TrimSpace(name))
			if err != nil {
				return err
			}
			p.Users = append(p.Users, u.ObjectID)
		}
		return store.CreateJSON(tx, kindPolicy, tenantID+"/"+p.ID, p)
	})
	return p, err
}

// Policies lists a tenant's conditional-access policies.
func (d *Directory) Policies(ctx context.Context, tenantID string) ([]Policy, error) {
	var out []Policy
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Policy](tx, kindPolicy, tenantID+"/")
		return err
	})
	return out, err
}

// DeletePolicy removes a conditional-access policy.
func (d *Directory) DeletePolicy(ctx context.Context, tenantID, id string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		err := tx.Delete(kindPolicy, tenantID+"/"+strings.ToLower(strings.TrimSpace(id)))
		if errors.Is(err, store.ErrNotFound) {
			return missing(ErrObjectNotFound, id)
		}
		return err
	})
}

// PolicyBlocking returns the first policy of tenantID whose control
// applies to the user, or nil.
func (d *Directory) PolicyBlocking(ctx context.Context, tenantID, userID, control string) (*Policy, error) {
	ps, err := d.Policies(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Control == control && p.Applies(userID) {
			return &p, nil
		}
	}
	return nil, nil
}
