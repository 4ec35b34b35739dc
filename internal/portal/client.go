package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/httpjson"
)

// api is an Azure API the portal calls with the user's own token.
type api struct {
	base  func(o Options) string
	scope string
}

var (
	graphAPI = api{func(o Options) string { return o.GraphBase }, "https://graph.microsoft.com/.default"}
	armAPI   = api{func(o Options) string { return o.ARMBase }, "https://management.azure.com/.default"}
)

// errSignIn means the session's tokens are gone: refused, revoked, or the
// refresh token spent. The browser signs in again.
var errSignIn = errors.New("portal: the session must sign in again")

// tokenAnswer is the token endpoint's answer the portal reads.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// redeem exchanges an authorization code and its PKCE verifier at the
// token endpoint, as any public client does.
func (h *Handler) redeem(ctx context.Context, code, verifier string) (tokenAnswer, error) {
	return h.tokenRequest(ctx, url.Values{"grant_type": {"authorization_code"}, "client_id": {h.o.ClientID}, "code": {code},
		"redirect_uri": {RedirectURI(h.o.URL)}, "code_verifier": {verifier}})
}

func (h *Handler) tokenRequest(ctx context.Context, form url.Values) (tokenAnswer, error) {
	var t tokenAnswer
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.o.LoginBase+"/"+h.o.TenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return t, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.o.HTTP.Do(req)
	if err != nil {
		return t, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return t, &refusal{status: resp.StatusCode, msg: firstLine(e.Description)}
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" || t.ExpiresIn <= 0 {
		return t, fmt.Errorf("the token endpoint answered without a token")
	}
	return t, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// bearer is the session's token for a, fetched with the refresh token
// when it has none or it is about to end. Refresh tokens work once: the
// session's lock is held across the redemption, and the new one is
// stored before the token is used. When another replica spent it first,
// the store holds its successor, which is tried once.
func (h *Handler) bearer(ctx context.Context, s *session, a api) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[a.scope]; ok && time.Until(t.expires) > time.Minute {
		return t.token, nil
	}
	for try := 0; ; try++ {
		if s.refresh == "" {
			return "", errSignIn
		}
		used := s.refresh
		t, err := h.tokenRequest(ctx, url.Values{"grant_type": {"refresh_token"}, "client_id": {h.o.ClientID},
			"refresh_token": {used}, "scope": {a.scope + " offline_access"}})
		var r *refusal
		if errors.As(err, &r) && r.status == http.StatusBadRequest {
			if try == 0 && h.reread(ctx, s) && s.refresh != used {
				continue
			}
			return "", errSignIn
		}
		if err != nil {
			return "", err
		}
		s.keep(a, t)
		if err := h.save(ctx, s); err != nil {
			return "", err
		}
		return t.AccessToken, nil
	}
}

// reread takes the stored refresh token (the caller holds s.mu).
func (h *Handler) reread(ctx context.Context, s *session) bool {
	sealed, err := h.o.Sessions.Get(ctx, storeKey(s.id))
	if err != nil {
		return false
	}
	r, err := open(s.id, sealed)
	if err != nil {
		return false
	}
	s.refresh = r.Refresh
	return true
}

// refusal is an Azure API's or the token endpoint's refusal.
type refusal struct {
	status    int
	code, msg string
}

func (e *refusal) Error() string {
	if e.code == "" {
		return e.msg
	}
	return e.code + ": " + e.msg
}

// call sends one request to a with the user's token and reads the JSON
// answer into v (when v is not nil).
func (h *Handler) call(ctx context.Context, s *session, a api, method, target string, in, v any) error {
	token, err := h.bearer(ctx, s, a)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(target, a.base(h.o)+"/") {
		target = a.base(h.o) + target
	}
	req, err := httpjson.NewRequest(ctx, method, target, in)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		if resp.StatusCode == http.StatusUnauthorized {
			s.forget(a) // the token was refused: the next call fetches another
		}
		return &refusal{status: resp.StatusCode, code: e.Error.Code, msg: e.Error.Message}
	}
	if v == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// list reads every page of a Graph or Resource Manager collection.
func list[T any](ctx context.Context, h *Handler, s *session, a api, path string) ([]T, error) {
	var out []T
	next := path
	for pages := 0; next != "" && pages < 100; pages++ {
		var page struct {
			Value     []T    `json:"value"`
			GraphNext string `json:"@odata.nextLink"`
			ARMNext   string `json:"nextLink"`
		}
		if err := h.call(ctx, s, a, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		next = page.GraphNext + page.ARMNext
	}
	return out, nil
}

// me names the signed-in user.
func (h *Handler) me(ctx context.Context, s *session) (string, error) {
	var u struct {
		DisplayName       string `json:"displayName"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	if err := h.call(ctx, s, graphAPI, http.MethodGet, "/v1.0/me", nil, &u); err != nil {
		return "", err
	}
	if u.UserPrincipalName != "" {
		return u.UserPrincipalName, nil
	}
	return u.DisplayName, nil
}

// globalAdministrator is Entra's Global Administrator role template ID,
// as Graph reports it in memberOf (roleTemplateId).
const globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"

// isGlobalAdmin asks Graph, with the user's own token, whether the user
// holds the Global Administrator directory role: the role aksid's Graph
// lets change applications, and the one that may move the clock. It is
// asked afresh for every page and every POST, so a role removed counts at
// once.
func (h *Handler) isGlobalAdmin(ctx context.Context, s *session) (bool, error) {
	type membership struct {
		Type           string `json:"@odata.type"`
		RoleTemplateID string `json:"roleTemplateId"`
	}
	ms, err := list[membership](ctx, h, s, graphAPI, "/v1.0/me/memberOf")
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.Type == "#microsoft.graph.directoryRole" && strings.EqualFold(m.RoleTemplateID, globalAdministrator) {
			return true, nil
		}
	}
	return false, nil
}
