package graph

import (
	"errors"
	"net/http"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/sts"
)

// userinfoClaims are what Entra's UserInfo endpoint answers: the subject
// (the ID token's pairwise sub), the name claims and the email, each when
// the user has it. aksid keeps no photos, so no picture.
type userinfoClaims struct {
	Sub        string `json:"sub"`
	Name       string `json:"name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	Email      string `json:"email,omitempty"`
}

// userinfo is the OpenID Connect UserInfo endpoint, which Entra hosts on
// Graph (/oidc/userinfo) for a user's Graph token, by GET or POST.
func (h *Handler) userinfo(c *call) error {
	if c.r.Method != http.MethodGet && c.r.Method != http.MethodPost {
		return &apiError{http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method '" + c.r.Method + "' is not allowed on this endpoint."}
	}
	// Only a signed-in user has claims to tell; Graph refuses the rest
	// as it refuses any token it cannot use here.
	refuse := &apiError{http.StatusUnauthorized, codeInvalidToken, "Access token validation failure."}
	if c.p.Type != "user" {
		return refuse
	}
	u, err := h.dir.User(c.ctx(), c.tenant, c.p.ObjectID)
	if errors.Is(err, directory.ErrUserNotFound) {
		return refuse
	} else if err != nil {
		return err
	}
	str := func(name string) string { v, _ := extraString(u.Extra, name).(string); return v }
	return c.ok(userinfoClaims{Sub: sts.PairwiseSub(u.ObjectID, c.p.AppID), Name: u.DisplayName,
		FamilyName: str("surname"), GivenName: str("givenName"), Email: str("mail")})
}
