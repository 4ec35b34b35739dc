// Package aksidtest starts an aksid inside a Go test, on a free loopback port with an in-memory store, and stops it when the test ends.
//
//	srv := aksidtest.New(t)
//	groups, _ := armresources.NewResourceGroupsClient(srv.SubscriptionID, srv.Credential, srv.ARMOptions())
//
// The server is the real one: tokens are signed and validated, RBAC is
// enforced, and what a test creates through it lives until the test ends.
// Helpers make what a test needs as the admin: ServicePrincipal, User,
// Cluster (an AKS cluster, whose API server then runs until the test
// ends) and Grant (a role assignment by role name); AdvanceClock moves
// aksid's clock.
package aksidtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/bootstrap"
)

// Server is a running aksid.
type Server struct {
	// URL is its base, https://127.0.0.1:PORT: the authority host, ARM's
	// and Graph's endpoint alike.
	URL            string
	TenantID       string
	SubscriptionID string
	// Credential is the bootstrap admin's (a service principal, Owner of
	// the subscription and Global Administrator of the directory).
	Credential azcore.TokenCredential
	// AdminAppID and AdminSecret are that principal's client ID and
	// secret, for clients that take them (az login --service-principal,
	// a client-credentials grant by hand).
	AdminAppID, AdminSecret string
	// Client trusts aksid's CA; CAPEM is that CA.
	Client *http.Client
	CAPEM  []byte

	tb  testing.TB
	run *app.Running
}

// New starts an aksid for tb and stops it in tb.Cleanup.
func New(tb testing.TB) *Server {
	tb.Helper()
	run, err := app.Start(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: tb.TempDir(), InMemory: true, NoKubeBuild: true,
		HTTPProxyAddr: "off", AdminAddr: "off", NewSigningKey: fixedKeys(), Out: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatalf("aksidtest: %v", err)
	}
	var client *http.Client
	tb.Cleanup(func() {
		// The clients' idle connections first: the server's shutdown
		// waits for them to go.
		if client != nil {
			client.CloseIdleConnections()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := run.Shutdown(ctx); err != nil {
			tb.Errorf("aksidtest: stopping aksid: %v", err)
		}
	})
	pem, err := os.ReadFile(run.CAPath)
	if err != nil {
		tb.Fatalf("aksidtest: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	s := &Server{URL: run.URL, TenantID: run.Creds.TenantID, SubscriptionID: bootstrap.SubscriptionID, CAPEM: pem, tb: tb, run: run,
		// HTTP/2 as azcore's own transport: some SDK requests carry a
		// $filter unencoded, which only HTTP/2 passes.
		Client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}}
	client = s.Client
	s.AdminAppID, s.AdminSecret = run.Creds.ClientID, run.Creds.ClientSecret
	s.Credential = s.SecretCredential(s.AdminAppID, s.AdminSecret)
	return s
}

// ClientOptions point an Azure SDK client's authentication at aksid and
// trust its CA.
func (s *Server) ClientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: s.URL + "/", Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: s.URL, Audience: "https://management.core.windows.net/"},
		}},
		Transport: s.Client,
	}
}

// ARMOptions are ClientOptions for the arm* clients.
func (s *Server) ARMOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: s.ClientOptions()}
}

// SecretCredential signs in as an application with a client secret.
func (s *Server) SecretCredential(clientID, secret string) azcore.TokenCredential {
	s.tb.Helper()
	cred, err := azidentity.NewClientSecretCredential(s.TenantID, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: s.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		s.tb.Fatalf("aksidtest: %v", err)
	}
	return cred
}
