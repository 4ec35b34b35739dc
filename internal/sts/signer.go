package sts

import (
	"crypto/rsa"
	"errors"

	"github.com/aksid/aksid/internal/rsasign"
	"github.com/go-jose/go-jose/v4"
)

// joseSigner hands go-jose's RS256 signing to an rsasign backend, so the
// JWS is built by go-jose and only the RSA operation changes.
type joseSigner struct {
	s   rsasign.Signer
	pub *jose.JSONWebKey
}

func newJoseSigner(s rsasign.Signer, kid string) *joseSigner {
	return &joseSigner{s: s, pub: &jose.JSONWebKey{Key: s.Public(), KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}}
}

func (j *joseSigner) Public() *jose.JSONWebKey        { return j.pub }
func (j *joseSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.RS256} }

func (j *joseSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.RS256 {
		return nil, jose.ErrUnsupportedAlgorithm
	}
	return rsasign.Sign(j.s, payload)
}

// signerFor builds the token signer for priv on backend b.
func signerFor(b rsasign.Backend, priv *rsa.PrivateKey, kid string) (jose.Signer, error) {
	if b == "" {
		return nil, errors.New("sts: no signing backend chosen")
	}
	s, err := rsasign.New(b, priv)
	if err != nil {
		return nil, err
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: newJoseSigner(s, kid)},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t", kid))
}
