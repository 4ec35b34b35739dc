package aks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"
)

const caKeyLabel = "aks-cluster-ca-key"

// AKS's first-party applications, written into Entra clusters' kubeconfigs.
const (
	aksServerApp = "6dae42f8-4368-4678-94ff-3960e28e3630"
	aksClientApp = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
)

// clusterCA is a cluster's certificate authority: the certificate DER and
// its key, sealed.
type clusterCA struct {
	certDER, sealedKey []byte
}

// newCA makes the cluster's own certificate authority (valid 30 years, as
// AKS's).
func (s *Service) newCA(name string) (clusterCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return clusterCA{}, err
	}
	now := s.wall.Now() // checked by real clients: the wall clock's frame
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "ca", Organization: []string{name}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(30, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return clusterCA{}, err
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return clusterCA{}, err
	}
	sealed, err := s.seal.Seal(caKeyLabel, kd)
	return clusterCA{der, sealed}, err
}

// clientCredential is a client certificate and its key, PEM-encoded.
type clientCredential struct {
	certPEM, keyPEM []byte
}

// clientCert issues a client certificate from the cluster's CA.
func (s *Service) clientCert(r record, cn string) (clientCredential, error) {
	kd, err := s.seal.Open(caKeyLabel, r.CAKey)
	if err != nil {
		return clientCredential{}, err
	}
	caKey, err := x509.ParseECPrivateKey(kd)
	if err != nil {
		return clientCredential{}, err
	}
	ca, err := x509.ParseCertificate(r.CACert)
	if err != nil {
		return clientCredential{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return clientCredential{}, err
	}
	now := s.wall.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"system:masters"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return clientCredential{}, err
	}
	kdr, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return clientCredential{}, err
	}
	return clientCredential{pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kdr})}, nil
}

// KubeconfigOptions shape the user kubeconfig of an Entra cluster.
type KubeconfigOptions struct {
	// AuthorityHost, when set (a client that reached aksid directly), is
	// added to kubelogin's arguments with --disable-instance-discovery.
	AuthorityHost string
	// Format is the request's format: "exec" (kubelogin, the default) or
	// "azure" (the azure auth-provider form, which AKS still gives when
	// asked, for kubelogin convert-kubeconfig); case-insensitive.
	Format string
}

// checkFormat refuses a kubeconfig format AKS does not know.
func checkFormat(f string) error {
	switch strings.ToLower(f) {
	case "", "exec", "azure":
		return nil
	}
	return invalid("InvalidParameter", "The value of parameter format '%s' is invalid. The allowed values are 'azure' and 'exec'.", f)
}

// UserKubeconfig is listClusterUserCredential's kubeconfig: kubelogin's
// exec form for managed Entra (the azure auth-provider form when asked
// for format=azure), the azure auth-provider for legacy Entra, a client
// certificate otherwise.
func (s *Service) UserKubeconfig(ctx context.Context, id string, o KubeconfigOptions) ([]byte, error) {
	if err := checkFormat(o.Format); err != nil {
		return nil, err
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	props := obj(r.Model, "properties")
	user := "clusterUser_" + groupOf(id) + "_" + r.Model["name"].(string)
	if aad, ok := props["aadProfile"].(map[string]any); ok && aad["managed"] == true {
		if strings.EqualFold(o.Format, "azure") {
			return kubeconfig(r, user, azureAuthProvider(aksServerApp, aksClientApp, r.TenantID)), nil
		}
		args := []string{"get-token", "--environment", "AzurePublicCloud", "--server-id", aksServerApp,
			"--client-id", aksClientApp, "--tenant-id", r.TenantID, "--login", "devicecode"}
		if o.AuthorityHost != "" {
			args = append(args, "--authority-host", o.AuthorityHost, "--disable-instance-discovery")
		}
		return kubeconfig(r, user, execUser(args)), nil
	}
	if aad, ok := props["aadProfile"].(map[string]any); ok {
		// Legacy Entra: the azure auth-provider form AKS still writes,
		// which kubelogin convert-kubeconfig turns into its exec form.
		tenant := str(aad["tenantID"])
		if tenant == "" {
			tenant = r.TenantID
		}
		return kubeconfig(r, user, azureAuthProvider(str(aad["serverAppID"]), str(aad["clientAppID"]), tenant)), nil
	}
	return s.certKubeconfig(r, user, "clusterUser")
}

// AdminKubeconfig is listClusterAdminCredential's: a client certificate in
// system:masters, refused when local accounts are disabled.
func (s *Service) AdminKubeconfig(ctx context.Context, id string) ([]byte, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if obj(r.Model, "properties")["disableLocalAccounts"] == true {
		return nil, invalid("BadRequest", "Getting static credential is not allowed because this cluster is set to disable local accounts.")
	}
	return s.certKubeconfig(r, "clusterAdmin_"+groupOf(id)+"_"+r.Model["name"].(string), "masterclient")
}

func (s *Service) certKubeconfig(r record, user, cn string) ([]byte, error) {
	cc, err := s.clientCert(r, cn)
	if err != nil {
		return nil, err
	}
	cert, key := cc.certPEM, cc.keyPEM
	b64 := base64.StdEncoding.EncodeToString
	return kubeconfig(r, user, fmt.Sprintf("    client-certificate-data: %s\n    client-key-data: %s\n", b64(cert), b64(key))), nil
}

// azureAuthProvider is the user entry of the azure auth-provider form.
func azureAuthProvider(serverApp, clientApp, tenant string) string {
	return fmt.Sprintf("    auth-provider:\n      config:\n        apiserver-id: %s\n        client-id: %s\n        config-mode: '1'\n        environment: AzurePublicCloud\n        tenant-id: %s\n      name: azure\n",
		serverApp, clientApp, tenant)
}

func execUser(args []string) string {
	var b strings.Builder
	b.WriteString("    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      args:\n")
	for _, a := range args {
		fmt.Fprintf(&b, "      - %s\n", a)
	}
	b.WriteString("      command: kubelogin\n      env: null\n      installHint: |2\n\n        kubelogin is not installed which is required to connect to AAD enabled cluster.\n\n        To learn more, please go to https://aka.ms/aks/kubelogin\n      interactiveMode: IfAvailable\n      provideClusterInfo: false\n")
	return b.String()
}

func kubeconfig(r record, user, userBody string) []byte {
	name := r.Model["name"].(string)
	server := "https://" + str(obj(r.Model, "properties")["fqdn"]) + ":443"
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.CACert}))
	return fmt.Appendf(nil, "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n    server: %s\n  name: %s\ncontexts:\n- context:\n    cluster: %s\n    user: %s\n  name: %s\ncurrent-context: %s\nkind: Config\npreferences: {}\nusers:\n- name: %s\n  user:\n%s",
		ca, server, name, name, user, name, name, user, userBody)
}

// groupOf reads the resource group name from a cluster ID.
func groupOf(id string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "resourcegroups") {
			return parts[i+1]
		}
	}
	return ""
}
