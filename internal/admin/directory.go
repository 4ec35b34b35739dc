package admin

import (
	"context"
	"encoding/json"
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
func RegisterDirectory(mux *http.ServeMux, ops DirectoryOps, token string) {
	guard := guarded(token)
	post := func(path string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
		mux.HandleFunc("POST "+path, guard(func(w http.ResponseWriter, r *http.Request) {
			var raw json.RawMessage
			if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
				writeErr(w, http.StatusBadRequest, "InvalidRequest", "body must be JSON")
				return
			}
			h(w, r, raw)
		}))
	}
	decode := func(w http.ResponseWriter, b []byte, v any) bool {
		if err := json.Unmarshal(b, v); err != nil {
			writeErr(w, http.StatusBadRequest, "InvalidRequest", "body does not match the request's shape")
			return false
		}
		return true
	}
	post("/aksid/admin/users", func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req UserRequest
		if decode(w, b, &req) {
			u, err := ops.CreateUser(r.Context(), req)
			respond(w, u, err)
		}
	})
	mux.HandleFunc("GET /aksid/admin/users", guard(func(w http.ResponseWriter, r *http.Request) {
		us, err := ops.Users(r.Context())
		respond(w, us, err)
	}))
	post("/aksid/admin/users/change", func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req UserChange
		if decode(w, b, &req) {
			u, err := ops.ChangeUser(r.Context(), req)
			respond(w, u, err)
		}
	})
	post("/aksid/admin/users/delete", func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req NameRequest
		if decode(w, b, &req) {
			respond(w, map[string]bool{"deleted": true}, ops.DeleteUser(r.Context(), req.Name))
		}
	})
	post("/aksid/admin/groups", func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req NameRequest
		if decode(w, b, &req) {
			g, err := ops.CreateGroup(r.Context(), req.Name)
			respond(w, g, err)
		}
	})
	mux.HandleFunc("GET /aksid/admin/groups", guard(func(w http.ResponseWriter, r *http.Request) {
		gs, err := ops.Groups(r.Context())
		respond(w, gs, err)
	}))
	post("/aksid/admin/groups/members", func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req MemberRequest
		if decode(w, b, &req) {
			g, err := ops.AddMember(r.Context(), req.Group, req.Member)
			respond(w, g, err)
		}
	})
	post("/aksid/admin/policies", func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req PolicyRequest
		if decode(w, b, &req) {
			p, err := ops.CreatePolicy(r.Context(), req)
			respond(w, p, err)
		}
	})
	mux.HandleFunc("GET /aksid/admin/policies", guard(func(w http.ResponseWriter, r *http.Request) {
		ps, err := ops.Policies(r.Context())
		respond(w, ps, err)
	}))
	post("/aksid/admin/policies/delete", func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req NameRequest
		if decode(w, b, &req) {
			respond(w, map[string]bool{"deleted": true}, ops.DeletePolicy(r.Context(), req.Name))
		}
	})
}
