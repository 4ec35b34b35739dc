package aks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"time"
)

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

// keepSAKey gives a cluster without an issuer a service-account key of its
// own where it has none: at creation, after rotate-certs, and for a cluster
// an older aksid made at its next change (its server made one per start
// until then, so no token it signed outlived it anyway).
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
