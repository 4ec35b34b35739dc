package aks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// KubeSpec is what a cluster's Kubernetes API server is started with and
// kept in step with: its names, trust, sign-in settings and node pools.
type KubeSpec struct {
	ID, Name, Location, TenantID string
	FQDN                         string
	NodeResourceGroup            string
	Version                      string // the cluster's Kubernetes version
	// Running is false after `az aks stop` (powerState Stopped).
	Running bool
	// CA issues the serving certificate (the kubeconfig's CA).
	CA *ClusterCA
	// ClientCA is PEM of the cluster CA, whose client certificates
	// (get-credentials --admin, and the user's on clusters without Entra)
	// sign in; nil when local accounts are disabled.
	ClientCA []byte
	// Issuer is the OIDC issuer URL ("" when the profile is off) and Key
	// the service-account signing key: the issuer's, else the cluster's
	// own; nil for a cluster an older aksid made, until its next change.
	Issuer string
	Key    *ServiceAccountKey
	// PreviousKeys are replaced issuer keys still trusted (public): the
	// API server verifies tokens they signed. KeysVersion changes with
	// the set of trusted keys.
	PreviousKeys []crypto.PublicKey
	KeysVersion  string
	// Entra is an aadProfile (managed or legacy): tokens go to Guard.
	Entra bool
	// AzureRBAC is aadProfile.enableAzureRBAC: the webhook authorizer.
	AzureRBAC bool
	// AdminGroups are aadProfile.adminGroupObjectIDs: cluster admins.
	AdminGroups []string
	// WorkloadIdentity is securityProfile.workloadIdentity.enabled: pods
	// labelled for it get the Azure SDKs' settings and a token.
	WorkloadIdentity bool
	Pools            []Pool
}

// Pool is an agent pool as its nodes show it.
type Pool struct {
	Name, VMSize, Mode, OSType, OSSKU string
	Count                             int
	Version                           string // orchestratorVersion
	ImageVersion                      string // nodeImageVersion
	MaxPods                           int    // maxPods; 0 when an older aksid made the pool
	// Rolls counts the times the pool's nodes were replaced with new
	// instances (node image upgrades, credential resets, certificate
	// rotations), as a reimage through surge replaces them.
	Rolls int
}

// KubeSpec reads the cluster's API-server settings.
func (s *Service) KubeSpec(ctx context.Context, id string) (KubeSpec, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return KubeSpec{}, err
	}
	props := obj(r.Model, "properties")
	k := KubeSpec{ID: str(r.Model["id"]), Name: str(r.Model["name"]), Location: str(r.Model["location"]), TenantID: r.TenantID,
		FQDN: str(props["fqdn"]), NodeResourceGroup: str(props["nodeResourceGroup"]), Version: str(props["currentKubernetesVersion"]),
		Running: !strings.EqualFold(str(obj(props, "powerState")["code"]), "Stopped"),
		CA:      &ClusterCA{seal: s.seal, certDER: r.CACert, sealedKey: r.CAKey}}
	if k.Version == "" {
		k.Version = str(props["kubernetesVersion"])
	}
	if props["disableLocalAccounts"] != true {
		k.ClientCA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.CACert})
	}
	if r.OIDCIssuerID != "" {
		k.Issuer = IssuerURL(k.Location, r.TenantID, r.OIDCIssuerID)
		if prev, ok := previousKey(r, s.clk.Now()); ok {
			k.PreviousKeys = []crypto.PublicKey{prev}
		}
	}
	if r.OIDCIssuerID != "" || len(r.SAKey) > 0 {
		k.Key = &ServiceAccountKey{s: s, r: r}
	}
	k.KeysVersion = keysVersion(r, s.clk.Now())
	k.WorkloadIdentity = obj(obj(props, "securityProfile"), "workloadIdentity")["enabled"] == true
	if aad, ok := props["aadProfile"].(map[string]any); ok {
		k.Entra = true
		k.AzureRBAC = aad["enableAzureRBAC"] == true
		groups, _ := aad["adminGroupObjectIDs"].([]any)
		for _, g := range groups {
			if g, ok := g.(string); ok && g != "" {
				k.AdminGroups = append(k.AdminGroups, strings.ToLower(g))
			}
		}
	}
	pools, _ := props["agentPoolProfiles"].([]any)
	for _, p := range pools {
		pool, ok := p.(map[string]any)
		if !ok {
			continue
		}
		count, _ := pool["count"].(float64)
		if poolStopped(pool) {
			count = 0 // az aks nodepool stop: its machines are deallocated
		}
		rolls, _ := pool["nodeImageUpgrades"].(float64)
		maxPods, _ := pool["maxPods"].(float64)
		k.Pools = append(k.Pools, Pool{Name: str(pool["name"]), VMSize: str(pool["vmSize"]), Mode: str(pool["mode"]),
			OSType: str(pool["osType"]), OSSKU: str(pool["osSKU"]), Count: int(count), Version: str(pool["currentOrchestratorVersion"]),
			ImageVersion: str(pool["nodeImageVersion"]), Rolls: int(rolls), MaxPods: int(maxPods)})
	}
	return k, nil
}

// ClusterByFQDN finds the cluster whose API server is host ("" if none).
func (s *Service) ClusterByFQDN(ctx context.Context, host string) (string, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var id string
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		items, err := store.ListJSON[record](tx, kindCluster, "")
		for _, r := range items {
			if strings.EqualFold(str(obj(r.Model, "properties")["fqdn"]), host) {
				id = str(r.Model["id"])
			}
		}
		return err
	})
	return id, err
}

// ClusterCA is a cluster's certificate authority, its key opened only
// to issue.
type ClusterCA struct {
	seal               Sealer
	certDER, sealedKey []byte
}

// PEM is the CA certificate, as kubeconfigs carry it.
func (c *ClusterCA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.certDER})
}

// Leaf issues a serving certificate for hosts, chained to the CA. It is
// checked by real clients, so it is dated by the wall clock now.
func (c *ClusterCA) Leaf(hosts []string, now time.Time) (tls.Certificate, error) {
	kd, err := c.seal.Open(caKeyLabel, c.sealedKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	caKey, err := x509.ParseECPrivateKey(kd)
	if err != nil {
		return tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(c.certDER)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(caKey.Curve, rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, c.certDER}, PrivateKey: key}, nil
}

// ServiceAccountKey opens the cluster's service-account signing key when asked.
type ServiceAccountKey struct {
	s *Service
	r record
}

// SigningKey is the issuer's RSA key, or the cluster's own key when it
// has no issuer, opened from its seal.
func (k *ServiceAccountKey) SigningKey(context.Context) (crypto.Signer, error) {
	if k.r.OIDCIssuerID == "" {
		return k.s.saKey(k.r)
	}
	ik, err := k.s.oidcKey(k.r)
	if err != nil {
		return nil, err
	}
	return ik.key, nil
}

// Observer learns of changes to clusters after they are stored; it must
// not block (the caller is answering a request).
type Observer interface {
	ClusterSaved(id string)
	// ClusterStarted follows az aks start: the API server starts now.
	ClusterStarted(id string)
	ClusterDeleted(id string)
}

// Observe sets the observer (one; the integrator's).
func (s *Service) Observe(o Observer) { s.obs = o }
