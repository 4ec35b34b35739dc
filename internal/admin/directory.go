package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// DirectoryOps are the operator's user, group and policy actions;
// internal/app implements them.
type DirectoryOps interface {
	CreateUser(ctx context.Context, req UserRequest) (CreatedUser, error)
	Users(ctx context.Context) ([]UserView, error)
	ChangeUser(ctx context.Context, req UserChange) (UserChanged, error)
	DeleteUser(ctx context.Context, upn string) error
	CreateGroup(ctx context.Context, name string) (GroupView, error)
	Groups(ctx context.Context) ([]GroupView, error)
	AddMember(ctx context.Context, group, member string) (GroupView, error)
	CreatePolicy(ctx context.Context, req PolicyRequest) (PolicyView, error)
	Policies(ctx context.Context) ([]PolicyView, error)
	DeletePolicy(ctx context.Context, id string) error
}

// UserRequest creates a user; an empty Password asks aksid for one.
type UserRequest struct {
	UPN         string `json:"userPrincipalName"`
	DisplayName string `json:"displayName,omitempty"`
	Password    string `json:"password,omitempty"`
	RequireMFA  bool   `json:"requireMfa,omitempty"`
}

// CreatedUser is shown once: the password (when aksid made it) and the
// MFA verification code are not stored in clear anywhere.
type CreatedUser struct {
	UserView
	Password         string `json:"password,omitempty"`
	VerificationCode string `json:"verificationCode,omitempty"`
}

// UserView is a user as the CLI lists it, with its sign-in state.
type UserView struct {
	ID          string     `json:"id"`
	UPN         string     `json:"userPrincipalName"`
	DisplayName string     `json:"displayName"`
	Enabled     bool       `json:"accountEnabled"`
	RequireMFA  bool       `json:"requireMfa"`
	Locked      bool       `json:"locked"`
	LockedUntil *time.Time `json:"lockedUntil,omitempty"`
	Failures    int        `json:"failedSignIns"`
}

// UserChange changes one user: action enable, disable, unlock or mfa
// (with RequireMFA).
type UserChange struct {
	UPN        string `json:"userPrincipalName"`
	Action     string `json:"action"`
	RequireMFA bool   `json:"requireMfa,omitempty"`
}

// UserChanged is the user after a change, with a new verification code
// when MFA was turned on.
type UserChanged struct {
	UserView
	VerificationCode string `json:"verificationCode,omitempty"`
}

// GroupView is a group with its direct members' IDs.
type GroupView struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members"`
}

// MemberRequest adds a member (UPN, service principal appId or object
// ID, or group name) to a group (name or ID).
type MemberRequest struct {
	Group  string `json:"group"`
	Member string `json:"member"`
}

// PolicyRequest creates a conditional-access policy.
type PolicyRequest struct {
	Control  string   `json:"control"`
	AllUsers bool     `json:"allUsers,omitempty"`
	Users    []string `json:"users,omitempty"`
}

// PolicyView is a stored conditional-access policy.
type PolicyView struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Control     string   `json:"control"`
	AllUsers    bool     `json:"allUsers"`
	Users       []string `json:"users,omitempty"`
}

// NameRequest names one object (user UPN, group name, policy ID).
type NameRequest struct {
	Name string `json:"name"`
}

// RegisterDirectory adds the user, group and policy routes, guarded as
// the others.
func RegisterDirectory(mux *http.ServeMux, ops DirectoryOps, token string, log *slog.Logger) {
	g := gate{token: token, log: log}
	mux.HandleFunc("POST /aksid/admin/users", action(g, "{userPrincipalName, displayName, password, requireMfa}", nil, ops.CreateUser))
	mux.HandleFunc("GET /aksid/admin/users", query(g, ops.Users))
	mux.HandleFunc("POST /aksid/admin/users/change", action(g, "{userPrincipalName, action, requireMfa}", nil, ops.ChangeUser))
	mux.HandleFunc("POST /aksid/admin/users/delete", action(g, "{name}", nil, func(ctx context.Context, req NameRequest) (map[string]bool, error) {
		return deleted(ops.DeleteUser(ctx, req.Name))
	}))
	mux.HandleFunc("POST /aksid/admin/groups", action(g, "{name}", nil, func(ctx context.Context, req NameRequest) (GroupView, error) {
		return ops.CreateGroup(ctx, req.Name)
	}))
	mux.HandleFunc("GET /aksid/admin/groups", query(g, ops.Groups))
	mux.HandleFunc("POST /aksid/admin/groups/members", action(g, "{group, member}", nil, func(ctx context.Context, req MemberRequest) (GroupView, error) {
		return ops.AddMember(ctx, req.Group, req.Member)
	}))
	mux.HandleFunc("POST /aksid/admin/policies", action(g, "{control, allUsers, users}", nil, ops.CreatePolicy))
	mux.HandleFunc("GET /aksid/admin/policies", query(g, ops.Policies))
	mux.HandleFunc("POST /aksid/admin/policies/delete", action(g, "{name}", nil, func(ctx context.Context, req NameRequest) (map[string]bool, error) {
		return deleted(ops.DeletePolicy(ctx, req.Name))
	}))
}
