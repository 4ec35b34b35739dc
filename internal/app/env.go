package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/envvar"
)

// EnvOptions choose what `aksid env` prints.
type EnvOptions struct {
	// AsAdmin also exports the admin principal as AZURE_CLIENT_ID and
	// AZURE_CLIENT_SECRET (for EnvironmentCredential). Off by default:
	// kubelogin reads AZURE_CLIENT_ID over the --client-id AKS writes, so
	// its user modes would send the admin's ID without a secret.
	AsAdmin bool
}

// DirectEnv is `aksid env --direct`: the variables az and SDKs need to
// reach aksid at its own URL (custom-cloud mode).
func (dd DataDir) DirectEnv(o EnvOptions) (string, error) {
	kr, err := dd.ExistingKeyring()
	if err != nil {
		return "", err
	}
	azDir, err := dd.AzConfigDir()
	if err != nil {
		return "", err
	}
	url := dd.url()
	ca := dd.Path("ca.pem")
	lines := [][2]string{
		{envvar.AzureAuthorityHost, url + "/"},
		{envvar.SSLCertFile, ca},
		{envvar.CurlCABundle, ca},
		{envvar.RequestsCABundle, ca},
		// Node's SDK fails before its first request without it.
		{envvar.NodeExtraCACerts, ca},
	}
	return dd.envLines(o, lines, azDir, bootstrap.CredentialsFor(kr)), nil
}

// ProxyEnv is `aksid env`: every client on the machine reaches aksid
// through its proxy while believing it talks to Azure. Its HTTP_PROXY
// names no host, so managed-identity clients speak for the default host
// (aksid-default-vm); `aksid host env NAME` makes a shell speak for another.
func (dd DataDir) ProxyEnv(o EnvOptions) (string, error) {
	kr, err := dd.ExistingKeyring()
	if err != nil {
		return "", err
	}
	azDir, err := dd.azConfigDir("az-proxy")
	if err != nil {
		return "", err
	}
	url := dd.url()
	httpProxy := url
	if info, ok := dd.RunningServer(); ok && info.HTTPProxy != "" {
		httpProxy = info.HTTPProxy
	}
	ca := dd.Path("ca.pem")
	noProxy := "127.0.0.1,localhost,::1"
	// HTTPS_PROXY is the plain port too when there is one: kubectl checks
	// an https:// proxy's certificate against the kubeconfig's cluster CA,
	// which no proxy certificate can satisfy for every cluster.
	lines := [][2]string{
		{envvar.HTTPSProxy, httpProxy},
		{envvar.HTTPProxy, httpProxy},
		{envvar.NoProxy, noProxy},
		{envvar.HTTPSProxyLower, httpProxy},
		{envvar.HTTPProxyLower, httpProxy},
		{envvar.NoProxyLower, noProxy},
		{envvar.RequestsCABundle, ca},
		{envvar.SSLCertFile, ca},
		{envvar.CurlCABundle, ca},
		{envvar.NodeExtraCACerts, ca},
	}
	return dd.envLines(o, lines, azDir, bootstrap.CredentialsFor(kr)), nil
}

// envLines adds what both ways in share: az's offline settings, the
// tenant, subscription and URL, and the admin's credentials.
func (dd DataDir) envLines(o EnvOptions, lines [][2]string, azDir string, c bootstrap.Credentials) string {
	lines = append(lines,
		[2]string{envvar.AzureConfigDir, azDir},
		[2]string{envvar.AzureCoreCollectTelemetry, "false"},
		[2]string{envvar.AzureCoreErrorRecommendation, "off"},
		[2]string{envvar.AzureExtensionUseDynamicInstall, "no"},
		[2]string{envvar.AzureCoreSurveyMessage, "false"},
		// Harmless to kubelogin: AKS's --tenant-id names the same tenant.
		[2]string{envvar.AzureTenantID, c.TenantID},
		[2]string{envvar.AdminClientID, c.ClientID},
		[2]string{envvar.AdminClientSecret, c.ClientSecret},
		[2]string{envvar.URL, dd.url()},
		[2]string{envvar.SubscriptionID, c.SubscriptionID},
	)
	if o.AsAdmin {
		lines = append(lines, [2]string{envvar.AzureClientID, c.ClientID}, [2]string{envvar.AzureClientSecret, c.ClientSecret})
	}
	return exportLines(lines)
}

func exportLines(lines [][2]string) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "export %s=%s\n", l[0], shellQuote(l[1]))
	}
	return b.String()
}

// WaitServer returns nil once the server recorded in the directory answers
// a TLS handshake with aksid's CA, checking until wait has passed (once if
// wait is 0); else an error saying what is missing. `aksid env` uses it so
// its lines never silently name an address where nothing listens.
func (dd DataDir) WaitServer(ctx context.Context, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait+2*time.Second)
	defer cancel()
	deadline := time.Now().Add(wait)
	for {
		err := dd.checkServer(ctx)
		if err == nil || !time.Now().Before(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (dd DataDir) checkServer(ctx context.Context) error {
	if _, err := os.Stat(dd.Path(fileServer)); err != nil {
		return fmt.Errorf("no aksid server is running on %s (no %s)", dd, fileServer)
	}
	info, ok := dd.RunningServer()
	if !ok {
		return fmt.Errorf("the aksid server recorded in %s (PID %d) is not running", dd.Path(fileServer), info.PID)
	}
	pem, err := os.ReadFile(dd.Path("ca.pem"))
	if err != nil {
		return fmt.Errorf("aksid's CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	u, err := url.Parse(info.URL)
	if err != nil {
		return fmt.Errorf("%s: %w", dd.Path(fileServer), err)
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: &tls.Config{RootCAs: pool, ServerName: u.Hostname()}}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		var verify *tls.CertificateVerificationError
		if errors.As(err, &verify) {
			return fmt.Errorf("the server at %s is not this data directory's aksid: %w", info.URL, err)
		}
		return fmt.Errorf("the aksid server at %s does not answer: %w", info.URL, err)
	}
	return conn.Close()
}
