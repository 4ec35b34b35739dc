package graph

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aksid/aksid/internal/authn"
)

// admins answers IsAdministrator from a set; the rest of Directory is
// not called by authorize.
type admins struct {
	Directory
	ids map[string]bool
}

func (a admins) IsAdministrator(_ context.Context, _, objectID string) (bool, error) {
	return a.ids[objectID], nil
}

func TestWritersAreAdministratorsOrHoldersOfAnApplicationPermission(t *testing.T) {
	h := &Handler{dir: admins{ids: map[string]bool{"admin": true}}}
	cases := []struct {
		oid     string
		roles   []string
		writers []string
		allowed bool
	}{
		{"admin", nil, appWriters, true},
		{"app", []string{"Application.ReadWrite.All"}, appWriters, true},
		{"app", []string{"Directory.ReadWrite.All"}, groupWriters, true},
		{"app", []string{"GroupMember.ReadWrite.All"}, memberWriters, true},
		{"app", []string{"GroupMember.ReadWrite.All"}, groupWriters, false},
		{"app", []string{"User.ReadWrite.All"}, appWriters, false},
		{"app", []string{"Application.Read.All"}, appWriters, false},
		{"plain", nil, userWriters, false},
	}
	for _, c := range cases {
		call := &call{r: httptest.NewRequest("POST", "/v1.0/applications", nil), p: authn.Principal{ObjectID: c.oid, Roles: c.roles}}
		err := h.authorize(call, c.writers)
		if got := err == nil; got != c.allowed {
			t.Errorf("%s %v on %v: allowed %v, want %v", c.oid, c.roles, c.writers, got, c.allowed)
		}
		if err != nil && !errors.Is(err, errDenied) {
			t.Errorf("refusal %v", err)
		}
	}
}
