package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// globalAdministrator is Entra's Global Administrator role template ID,
// as Graph reports it in memberOf (roleTemplateId).
const globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"

// tokenAnswer is the token endpoint's answer the portal reads.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// redeem exchanges an authorization code and its PKCE verifier at the
// token endpoint, as any public client does.
func (h *Handler) redeem(ctx context.Context, code, verifier string) (tokenAnswer, error) {
	var t tokenAnswer
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {h.o.ClientID}, "code": {code},
		"redirect_uri": {RedirectURI(h.o.URL)}, "code_verifier": {verifier}}
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
		return t, fmt.Errorf("%s", firstLine(e.Description))
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

// graphGet reads one Graph resource with the user's token into v.
func (h *Handler) graphGet(ctx context.Context, token, target string, v any) error {
	if !strings.HasPrefix(target, h.o.GraphBase+"/") {
		target = h.o.GraphBase + target
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return &graphError{status: resp.StatusCode, msg: e.Error.Code + ": " + e.Error.Message}
	}
	return json.Unmarshal(body, v)
}

type graphError struct {
	status int
	msg    string
}

func (e *graphError) Error() string { return fmt.Sprintf("Graph answered %d %s", e.status, e.msg) }

// graphList reads every page of a Graph collection.
func graphList[T any](ctx context.Context, h *Handler, token, path string) ([]T, error) {
	var out []T
	next := path
	for pages := 0; next != "" && pages < 100; pages++ {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := h.graphGet(ctx, token, next, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		next = page.NextLink
	}
	return out, nil
}

// me names the signed-in user.
func (h *Handler) me(ctx context.Context, token string) (string, error) {
	var u struct {
		DisplayName       string `json:"displayName"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	if err := h.graphGet(ctx, token, "/v1.0/me", &u); err != nil {
		return "", err
	}
	if u.UserPrincipalName != "" {
		return u.UserPrincipalName, nil
	}
	return u.DisplayName, nil
}

// isGlobalAdmin asks Graph, with the user's own token, whether the user
// holds the Global Administrator directory role. It is asked afresh for
// every page and every POST, so a role removed counts at once.
func (h *Handler) isGlobalAdmin(ctx context.Context, token string) (bool, error) {
	type membership struct {
		Type           string `json:"@odata.type"`
		RoleTemplateID string `json:"roleTemplateId"`
	}
	list, err := graphList[membership](ctx, h, token, "/v1.0/me/memberOf")
	if err != nil {
		return false, err
	}
	for _, m := range list {
		if m.Type == "#microsoft.graph.directoryRole" && strings.EqualFold(m.RoleTemplateID, globalAdministrator) {
			return true, nil
		}
	}
	return false, nil
}

// graphApp is an application as Graph lists it, with its credentials.
type graphApp struct {
	ID                  string      `json:"id"`
	AppID               string      `json:"appId"`
	DisplayName         string      `json:"displayName"`
	PasswordCredentials []graphCred `json:"passwordCredentials"`
	KeyCredentials      []graphCred `json:"keyCredentials"`
}

type graphCred struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint"`
	Thumbprint    string    `json:"customKeyIdentifier"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
}
