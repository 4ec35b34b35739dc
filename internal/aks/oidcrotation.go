package aks

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
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
	if err := refuseStopped(r.Model, "rotating service account signing keys"); err != nil {
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

var errNotRSA = errors.New("aks: OIDC issuer key is not RSA")
