package aksidtest

import (
	"context"
	"encoding/json"
	"fmt"
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

// graph GETs a Graph path as the admin and decodes the answer into out.
func (s *Server) graph(path string, out any) {
	s.tb.Helper()
	ctx := context.Background()
	tok, err := s.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		s.tb.Fatalf("aksidtest: Graph token: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		s.tb.Fatalf("aksidtest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := s.Client.Do(req)
	if err != nil {
		s.tb.Fatalf("aksidtest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.tb.Fatalf("aksidtest: GET %s: %s", path, fmt.Sprintf("%d %s", resp.StatusCode, body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		s.tb.Fatalf("aksidtest: GET %s: %v", path, err)
	}
}
