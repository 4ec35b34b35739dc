package aks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"time"
)

// previousKeyLife is how long a replaced issuer key stays trusted: AKS
// keeps both keys valid for 24 hours after a rotation.
const previousKeyLife = 24 * time.Hour

// RotateServiceAccountSigningKeys is az aks oidc-issuer
// rotate-signing-keys: a new key signs the cluster's service-account
// tokens; the one it replaces is still published (the issuer's JWKS) and
// accepted by the API server for 24 hours on aksid's clock, so tokens
// already in pods keep working. A second rotation within that time drops
// the first key at once, as AKS's doc says: only the two newest are valid.
func (s *Service) RotateServiceAccountSigningKeys(ctx context.Context, id string) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if r.OIDCIssuerID == "" {
		return invalid("OperationNotAllowed", "Rotating service account signing keys is not allowed since the OIDC issuer is not enabled on managed cluster '%s'. Enable it with --enable-oidc-issuer first.", str(r.Model["name"]))
	}
	old, err := s.oidcKey(r)
	if err != nil {
		return err
	}
	prev, err := x509.MarshalPKIXPublicKey(&old.key.PublicKey)
	if err != nil {
		return err
	}
	if r.OIDCKey, err = s.newIssuerKey(); err != nil {
		return err
	}
	r.OIDCPreviousKey, r.OIDCPreviousUntil = prev, s.clk.Now().UTC().Add(previousKeyLife)
	return s.save(ctx, id, r)
}

// newIssuerKey makes an issuer signing key, sealed.
func (s *Service) newIssuerKey() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return s.seal.Seal(oidcKeyLabel, der)
}

// previousKey is the issuer key the last rotation replaced, while it is
// still trusted at now.
func previousKey(r record, now time.Time) (*rsa.PublicKey, bool) {
	if len(r.OIDCPreviousKey) == 0 || !now.Before(r.OIDCPreviousUntil) {
		return nil, false
	}
	k, err := x509.ParsePKIXPublicKey(r.OIDCPreviousKey)
	if err != nil {
		return nil, false
	}
	pub, ok := k.(*rsa.PublicKey)
	return pub, ok
}

// keysVersion names the service-account keys trusted at now without
// opening the sealed ones: it changes when a rotation makes a new key and
// when a replaced issuer key stops being trusted, so a server started
// with other keys is known to be behind.
func keysVersion(r record, now time.Time) string {
	if r.OIDCIssuerID == "" {
		if len(r.SAKey) == 0 {
			return ""
		}
		sum := sha256.Sum256(r.SAKey)
		return hex.EncodeToString(sum[:8])
	}
	h := sha256.New()
	h.Write(r.OIDCKey)
	if _, ok := previousKey(r, now); ok {
		h.Write(r.OIDCPreviousKey)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

var errNotRSA = errors.New("aks: OIDC issuer key is not RSA")

const saKeyLabel = "aks-service-account-key"

// newSAKey makes a cluster's own service-account signing key, sealed.
func (s *Service) newSAKey() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return s.seal.Seal(saKeyLabel, der)
}

// keepSAKey gives a cluster an older aksid made, without an issuer, a
// service-account key of its own at its next change (its server made one
// per start until then, so no token it signed outlived it anyway).
func (s *Service) keepSAKey(r *record) error {
	if r.OIDCIssuerID != "" || len(r.SAKey) > 0 {
		return nil
	}
	var err error
	r.SAKey, err = s.newSAKey()
	return err
}

// saKey opens the cluster's service-account key.
func (s *Service) saKey(r record) (crypto.Signer, error) {
	der, err := s.seal.Open(saKeyLabel, r.SAKey)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	signer, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("aks: service-account key is not ECDSA")
	}
	return signer, nil
}
