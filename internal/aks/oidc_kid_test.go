package aks

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
)

// kube-apiserver names its service-account key by the SHA-256 of the
// public key's DER (pkg/serviceaccount keyIDFromPublicKey); a JWK
// thumbprint would not match the kid its tokens carry.
func TestKeyIDIsKubernetesOwn(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	got, err := KeyID(&key.PublicKey)
	if err != nil || got != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("KeyID = %q, %v", got, err)
	}
}
