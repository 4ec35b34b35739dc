package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/directory"
	"github.com/google/uuid"
)

var _ admin.DirectoryOps = (*Ops)(nil)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", directory.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// CreateUser creates a user of the bootstrap tenant; without a password
// aksid makes one that meets Entra's complexity rule.
func (o *Ops) CreateUser(ctx context.Context, req admin.UserRequest) (admin.CreatedUser, error) {
	var out admin.CreatedUser
	pw := req.Password
	if pw == "" {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return out, err
		}
		// Standard base64: no leading "-" that a CLI would read as a flag.
		pw = base64.RawStdEncoding.EncodeToString(b) + "aA1" // three classes whatever the random part
		out.Password = pw
	}
	name := req.DisplayName
	if name == "" {
		name, _, _ = strings.Cut(req.UPN, "@")
	}
	local, _, _ := strings.Cut(req.UPN, "@")
	u, err := o.dir.CreateUser(ctx, bootstrap.TenantID, directory.UserSpec{UserPrincipalName: req.UPN, DisplayName: name,
		Password: pw, MailNickname: local})
	if err != nil {
		return admin.CreatedUser{}, err
	}
	if req.RequireMFA {
		enrolled, err := o.dir.RequireMFA(ctx, bootstrap.TenantID, u.ObjectID)
		if err != nil {
			return admin.CreatedUser{}, err
		}
		u, out.VerificationCode = enrolled.User, enrolled.Code
	}
	out.UserView, err = o.userView(ctx, u)
	return out, err
}

func (o *Ops) userView(ctx context.Context, u directory.User) (admin.UserView, error) {
	l, err := o.dir.UserLockout(ctx, u.TenantID, u.ObjectID)
	if err != nil {
		return admin.UserView{}, err
	}
	v := admin.UserView{ID: u.ObjectID, UPN: u.UserPrincipalName, DisplayName: u.DisplayName, Enabled: u.AccountEnabled,
		RequireMFA: u.RequireMFA, Failures: l.Failures}
	if l.Locked(o.clk.Now()) {
		until := l.LockedUntil.UTC()
		v.Locked, v.LockedUntil = true, &until
	}
	return v, nil
}

// Users lists the bootstrap tenant's users with their sign-in state.
func (o *Ops) Users(ctx context.Context) ([]admin.UserView, error) {
	us, err := o.dir.Users(ctx, bootstrap.TenantID)
	if err != nil {
		return nil, err
	}
	out := []admin.UserView{}
	for _, u := range us {
		v, err := o.userView(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ChangeUser enables, disables or unlocks a user, or sets its MFA
// requirement.
func (o *Ops) ChangeUser(ctx context.Context, req admin.UserChange) (admin.UserChanged, error) {
	var out admin.UserChanged
	u, err := o.dir.User(ctx, bootstrap.TenantID, req.UPN)
	if err != nil {
		return out, err
	}
	switch req.Action {
	case "enable", "disable":
		on := req.Action == "enable"
		u, err = o.dir.UpdateUser(ctx, bootstrap.TenantID, u.ObjectID, directory.UserPatch{AccountEnabled: &on})
	case "unlock":
		err = o.dir.ClearLockout(ctx, bootstrap.TenantID, u.ObjectID)
	case "mfa":
		if req.RequireMFA {
			var enrolled directory.MFAEnrollment
			enrolled, err = o.dir.RequireMFA(ctx, bootstrap.TenantID, u.ObjectID)
			u, out.VerificationCode = enrolled.User, enrolled.Code
		} else {
			u, err = o.dir.WaiveMFA(ctx, bootstrap.TenantID, u.ObjectID)
		}
	default:
		return out, invalidf("action must be enable, disable, unlock or mfa")
	}
	if err != nil {
		return admin.UserChanged{}, err
	}
	out.UserView, err = o.userView(ctx, u)
	return out, err
}

// DeleteUser removes a user.
func (o *Ops) DeleteUser(ctx context.Context, upn string) error {
	return o.dir.DeleteUser(ctx, bootstrap.TenantID, upn)
}

// CreateGroup creates a security group; its mail nickname is derived
// from the name as the portal does.
func (o *Ops) CreateGroup(ctx context.Context, name string) (admin.GroupView, error) {
	nick := strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r|0x20 && r|0x20 <= 'z')) {
			return r
		}
		return -1
	}, name)
	if nick == "" {
		nick = "group"
	}
	g, err := o.dir.CreateGroup(ctx, bootstrap.TenantID, directory.GroupSpec{DisplayName: name, MailNickname: nick[:min(len(nick), 64)], SecurityEnabled: true})
	if err != nil {
		return admin.GroupView{}, err
	}
	return admin.GroupView{ID: g.ObjectID, DisplayName: g.DisplayName, Members: []string{}}, nil
}

// Groups lists the groups with their direct members.
func (o *Ops) Groups(ctx context.Context) ([]admin.GroupView, error) {
	gs, err := o.dir.Groups(ctx, bootstrap.TenantID)
	if err != nil {
		return nil, err
	}
	out := []admin.GroupView{}
	for _, g := range gs {
		v, err := o.groupView(ctx, g)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (o *Ops) groupView(ctx context.Context, g directory.Group) (admin.GroupView, error) {
	ms, err := o.dir.Members(ctx, bootstrap.TenantID, g.ObjectID)
	if err != nil {
		return admin.GroupView{}, err
	}
	v := admin.GroupView{ID: g.ObjectID, DisplayName: g.DisplayName, Members: []string{}}
	for _, m := range ms {
		v.Members = append(v.Members, m.ID())
	}
	return v, nil
}

// groupNamed finds a group by object ID or (unique) display name.
func (o *Ops) groupNamed(ctx context.Context, name string) (directory.Group, error) {
	if _, err := uuid.Parse(name); err == nil {
		if g, err := o.dir.Group(ctx, bootstrap.TenantID, name); err == nil {
			return g, nil
		}
	}
	gs, err := o.dir.Groups(ctx, bootstrap.TenantID)
	if err != nil {
		return directory.Group{}, err
	}
	var found []directory.Group
	for _, g := range gs {
		if strings.EqualFold(g.DisplayName, name) {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		return directory.Group{}, fmt.Errorf("%w: no group named %q", directory.ErrObjectNotFound, name)
	case 1:
		return found[0], nil
	}
	return directory.Group{}, invalidf("%d groups are named %q; use the group's ID", len(found), name)
}

// AddMember adds a user (UPN), a service principal (appId or object ID),
// a group (name or ID) to a group.
func (o *Ops) AddMember(ctx context.Context, group, member string) (admin.GroupView, error) {
	g, err := o.groupNamed(ctx, group)
	if err != nil {
		return admin.GroupView{}, err
	}
	id, err := o.memberID(ctx, member)
	if err != nil {
		return admin.GroupView{}, err
	}
	if err := o.dir.AddMember(ctx, bootstrap.TenantID, g.ObjectID, id); err != nil {
		return admin.GroupView{}, err
	}
	return o.groupView(ctx, g)
}

func (o *Ops) memberID(ctx context.Context, member string) (string, error) {
	if strings.Contains(member, "@") {
		u, err := o.dir.User(ctx, bootstrap.TenantID, member)
		return u.ObjectID, err
	}
	if _, err := uuid.Parse(member); err == nil {
		if sp, err := o.dir.ServicePrincipal(ctx, bootstrap.TenantID, strings.ToLower(member)); err == nil {
			return sp.ObjectID, nil
		}
		if obj, err := o.dir.Object(ctx, bootstrap.TenantID, member); err == nil {
			return obj.ID(), nil
		}
	}
	g, err := o.groupNamed(ctx, member)
	return g.ObjectID, err
}

// CreatePolicy stores a conditional-access policy.
func (o *Ops) CreatePolicy(ctx context.Context, req admin.PolicyRequest) (admin.PolicyView, error) {
	p, err := o.dir.CreatePolicy(ctx, bootstrap.TenantID, directory.PolicySpec{Control: req.Control, AllUsers: req.AllUsers, Users: req.Users})
	return policyView(p), err
}

func policyView(p directory.Policy) admin.PolicyView {
	return admin.PolicyView{ID: p.ID, DisplayName: p.DisplayName, Control: p.Control, AllUsers: p.AllUsers, Users: p.Users}
}

// Policies lists the conditional-access policies.
func (o *Ops) Policies(ctx context.Context) ([]admin.PolicyView, error) {
	ps, err := o.dir.Policies(ctx, bootstrap.TenantID)
	out := []admin.PolicyView{}
	for _, p := range ps {
		out = append(out, policyView(p))
	}
	return out, err
}

// DeletePolicy removes a conditional-access policy.
func (o *Ops) DeletePolicy(ctx context.Context, id string) error {
	return o.dir.DeletePolicy(ctx, bootstrap.TenantID, id)
}
