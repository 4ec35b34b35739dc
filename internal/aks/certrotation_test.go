package aks

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"regexp"
	"testing"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// TestRotateCertificatesGivesTheClusterANewCA: az aks rotate-certs makes a
// new cluster CA: the kubeconfigs fetched afterwards carry it, and an
// admin certificate from before no longer chains to it; the nodes are
// replaced on the same image and the cluster's service-account key too;
// the observer learns of it (the API server restarts); a stopped cluster
// is refused with AKS's 409.
func TestRotateCertificatesGivesTheClusterANewCA(t *testing.T) {
	ctx := context.Background()
	s, _ := sealingService(t)
	obs := &observed{}
	s.Observe(obs)
	id := clusterID("s", "rg", "c")
	ca, err := s.newCA("c")
	if err != nil {
		t.Fatal(err)
	}
	pool := map[string]any{"name": "nodepool1", "count": 2.0, "nodeImageVersion": nodeImage(0), "powerState": map[string]any{"code": "Running"}}
	if err := s.save(ctx, id, record{TenantID: "t", CACert: ca.certDER, CAKey: ca.sealedKey, Model: map[string]any{"id": id, "name": "c", "location": "westus2",
		"properties": map[string]any{"provisioningState": "Succeeded", "fqdn": "c-1.hcp.westus2.azmk8s.io", "powerState": map[string]any{"code": "Running"},
			"agentPoolProfiles": []any{pool}}}}); err != nil {
		t.Fatal(err)
	}
	before, err := s.AdminKubeconfig(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	specBefore, err := s.KubeSpec(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	obs.saved = nil

	if err := s.RotateCertificates(ctx, id); err != nil {
		t.Fatal(err)
	}
	after, err := s.AdminKubeconfig(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	oldCA, newCA := kubeconfigCert(t, before, "certificate-authority-data"), kubeconfigCert(t, after, "certificate-authority-data")
	if bytes.Equal(oldCA.Raw, newCA.Raw) {
		t.Fatal("the kubeconfig's CA did not change")
	}
	oldClient, newClient := kubeconfigCert(t, before, "client-certificate-data"), kubeconfigCert(t, after, "client-certificate-data")
	verify := func(cert, root *x509.Certificate) error {
		pool := x509.NewCertPool()
		pool.AddCert(root)
		_, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		return err
	}
	if err := verify(newClient, newCA); err != nil {
		t.Fatalf("the new admin certificate does not chain to the new CA: %v", err)
	}
	if verify(oldClient, newCA) == nil {
		t.Fatal("an admin certificate from before the rotation chains to the new CA")
	}
	spec, err := s.KubeSpec(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(spec.CA.PEM(), specBefore.CA.PEM()) || !bytes.Equal(spec.ClientCA, spec.CA.PEM()) {
		t.Fatal("the API server's serving and client CA are not the new CA")
	}
	if p := spec.Pools[0]; p.Rolls != 1 || p.ImageVersion != nodeImage(0) {
		t.Fatalf("the pool after rotation: %d rolls on %s, want its nodes replaced on %s", p.Rolls, p.ImageVersion, nodeImage(0))
	}
	if len(obs.saved) != 1 {
		t.Fatalf("observer told %v", obs.saved)
	}
	// A cluster an older aksid made had no service-account key of its
	// own; rotated, it has one, and the next rotation replaces it.
	if specBefore.Key != nil || spec.Key == nil || spec.KeysVersion == "" {
		t.Fatalf("service-account key before/after rotation: %v/%v, version %q", specBefore.Key != nil, spec.Key != nil, spec.KeysVersion)
	}
	if k, err := spec.Key.SigningKey(ctx); err != nil || k == nil {
		t.Fatalf("service-account key: %v", err)
	}
	if err := s.RotateCertificates(ctx, id); err != nil {
		t.Fatal(err)
	}
	if again, err := s.KubeSpec(ctx, id); err != nil || again.KeysVersion == spec.KeysVersion {
		t.Fatalf("service-account key after a second rotation: version unchanged %v, %v", again.KeysVersion == spec.KeysVersion, err)
	}

	if err := s.SetPowerState(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	err = s.RotateCertificates(ctx, id)
	if e, ok := azerr.As(err); !ok || e.Kind != azerr.Conflict || e.Code != "OperationNotAllowed" ||
		e.Message != "managed cluster is in Provisioning State(Succeeded) and Power State(Stopped), rotating cluster certificates cannot be performed" {
		t.Fatalf("rotation of a stopped cluster: %v", err)
	}
	if e, ok := azerr.As(s.RotateCertificates(ctx, id+"x")); !ok || e.Kind != azerr.NotFound {
		t.Fatal("rotation of an unknown cluster is not 404")
	}
}

// sealingService is a Service on an in-memory store whose secrets are
// really sealed, and its virtual clock.
func sealingService(t *testing.T) (*Service, *clock.Virtual) {
	t.Helper()
	st, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := keyring.Random()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewVirtual(clock.Wall{}, 0)
	return New(Deps{Store: st, Clock: clk, Sealer: kr}), clk
}

// kubeconfigCert reads the certificate in the kubeconfig's field.
func kubeconfigCert(t *testing.T, kc []byte, field string) *x509.Certificate {
	t.Helper()
	m := regexp.MustCompile(field + `: (\S+)`).FindSubmatch(kc)
	if m == nil {
		t.Fatalf("no %s in\n%s", field, kc)
	}
	p, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatalf("%s holds no PEM", field)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
