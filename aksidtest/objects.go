package aksidtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/bootstrap"
)

// Principal is an application registration with its service principal
// and a client secret, as `az ad sp create-for-rbac` makes them.
type Principal struct {
	AppID    string
	ObjectID string // the service principal's, which role assignments name
	Secret   string
	// Credential signs in as the principal with its secret.
	Credential azcore.TokenCredential
}

// ServicePrincipal registers an application named name with a service
// principal and a secret valid for a year of aksid's clock. It holds no
// role: assign one as a test would in Azure.
func (s *Server) ServicePrincipal(name string) Principal {
	s.tb.Helper()
	sp, err := s.run.Ops.CreateSP(context.Background(), name, 1, nil)
	if err != nil || sp.Password == nil {
		s.tb.Fatalf("aksidtest: service principal %q: %v", name, err)
	}
	p := Principal{AppID: sp.AppID, Secret: *sp.Password}
	var found struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	s.graph("/v1.0/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+sp.AppID+"'"), &found)
	if len(found.Value) != 1 {
		s.tb.Fatalf("aksidtest: Graph lists %d principals for %s", len(found.Value), sp.AppID)
	}
	p.ObjectID = found.Value[0].ID
	p.Credential = s.SecretCredential(p.AppID, p.Secret)
	return p
}

// User is a member of the directory with a password.
type User struct {
	UPN      string
	ObjectID string
	Password string
}

// User creates a user named upn (in aksid.local, the tenant's domain,
// when upn has no domain) with a generated password.
func (s *Server) User(upn string) User {
	s.tb.Helper()
	if !strings.Contains(upn, "@") {
		upn += "@" + bootstrap.TenantDomain
	}
	u, err := s.run.Ops.CreateUser(context.Background(), admin.UserRequest{UPN: upn})
	if err != nil {
		s.tb.Fatalf("aksidtest: user %q: %v", upn, err)
	}
	return User{UPN: u.UPN, ObjectID: u.ID, Password: u.Password}
}

// AdvanceClock moves aksid's clock forward by d: secrets and certificates
// expire by it, tokens keep wall time (see the README's "Time").
func (s *Server) AdvanceClock(d time.Duration) {
	s.tb.Helper()
	if _, err := s.run.Ops.AdvanceClock(context.Background(), d); err != nil {
		s.tb.Fatalf("aksidtest: clock: %v", err)
	}
}

// Now is aksid's clock.
func (s *Server) Now() time.Time { return s.run.Ops.Clock().Now }

// Token audiences of the admin's calls.
const (
	graphScope = "https://graph.microsoft.com/.default"
	armScope   = "https://management.azure.com/.default"
)

// graph GETs a Graph path as the admin and decodes the answer into out.
func (s *Server) graph(path string, out any) {
	s.tb.Helper()
	s.call(http.MethodGet, graphScope, path, "", out)
}

// call sends a JSON body (none when "") to a path of aksid's with the
// admin's token for scope and decodes a 2xx answer into out.
func (s *Server) call(method, scope, path, body string, out any) {
	s.tb.Helper()
	ctx := context.Background()
	tok, err := s.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		s.tb.Fatalf("aksidtest: token for %s: %v", scope, err)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		s.tb.Fatalf("aksidtest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		s.tb.Fatalf("aksidtest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		s.tb.Fatalf("aksidtest: %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		s.tb.Fatalf("aksidtest: %s %s: %v", method, path, err)
	}
}
