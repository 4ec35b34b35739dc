// Package rsasign signs RS256 (RSA PKCS #1 v1.5 over SHA-256) with OpenSSL's libcrypto where the machine has it, and with Go's crypto/rsa otherwise.
package rsasign

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Backend names a signing implementation.
type Backend string

const (
	// OpenSSL is libcrypto.so.3, loaded at run time (cgo builds only).
	OpenSSL Backend = "openssl"
	// Go is crypto/rsa, always there.
	Go Backend = "go"
	// Auto picks OpenSSL when it loads, else Go.
	Auto Backend = "auto"
)

// Signer signs with one private key through one backend. It is safe for
// concurrent use.
type Signer interface {
	// SignSHA256 returns the RS256 signature of a SHA-256 digest.
	SignSHA256(digest []byte) ([]byte, error)
	Public() *rsa.PublicKey
	Backend() Backend
}

// Verify checks an RS256 signature over a SHA-256 digest with backend b:
// the tests cross-check each backend's signatures with the other's.
func Verify(b Backend, pub *rsa.PublicKey, digest, sig []byte) error {
	switch b {
	case Go:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig)
	case OpenSSL:
		if err := load(); err != nil {
			return err
		}
		return opensslVerify(pub, digest, sig)
	}
	return fmt.Errorf("rsasign: unknown backend %q", b)
}

// Sign is SignSHA256 over the SHA-256 of msg.
func Sign(s Signer, msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return s.SignSHA256(sum[:])
}

// Choice is the backend chosen for a run and why.
type Choice struct {
	Backend Backend
	// Library is crypto/rsa or OpenSSL's version text.
	Library string
	// Why says why OpenSSL is not used when auto fell back.
	Why string
}

func (c Choice) String() string {
	if c.Why == "" {
		return string(c.Backend) + " (" + c.Library + ")"
	}
	return string(c.Backend) + " (" + c.Library + "; " + c.Why + ")"
}

// Choose resolves a wanted backend ("", auto, openssl or go) to the one a
// run uses. Asking for OpenSSL where it does not load is an error; auto
// falls back to Go and says why.
func Choose(want string) (Choice, error) {
	switch Backend(strings.ToLower(want)) {
	case Go:
		return Choice{Backend: Go, Library: "crypto/rsa"}, nil
	case OpenSSL:
		if err := load(); err != nil {
			return Choice{}, err
		}
		return Choice{Backend: OpenSSL, Library: opensslVersion()}, nil
	case Auto, "":
		if err := load(); err != nil {
			return Choice{Backend: Go, Library: "crypto/rsa", Why: err.Error()}, nil
		}
		return Choice{Backend: OpenSSL, Library: opensslVersion()}, nil
	}
	return Choice{}, fmt.Errorf("rsasign: unknown backend %q (want auto, openssl or go)", want)
}

// New returns a signer for priv through backend b.
func New(b Backend, priv *rsa.PrivateKey) (Signer, error) {
	if priv == nil {
		return nil, errors.New("rsasign: no key")
	}
	switch b {
	case Go:
		priv.Precompute()
		return goSigner{priv}, nil
	case OpenSSL:
		if err := load(); err != nil {
			return nil, err
		}
		return newOpenSSLSigner(priv)
	}
	return nil, fmt.Errorf("rsasign: unknown backend %q", b)
}

// goSigner is crypto/rsa. PKCS #1 v1.5 is deterministic, so no random
// source is needed (Go blinds internally).
type goSigner struct{ k *rsa.PrivateKey }

func (s goSigner) SignSHA256(digest []byte) ([]byte, error) {
	return rsa.SignPKCS1v15(nil, s.k, crypto.SHA256, digest)
}
func (s goSigner) Public() *rsa.PublicKey { return &s.k.PublicKey }
func (goSigner) Backend() Backend         { return Go }

var loaded struct {
	once sync.Once
	err  error
}

// load initialises libcrypto once per process, on first need.
func load() error {
	loaded.once.Do(func() { loaded.err = opensslLoad() })
	return loaded.err
}
