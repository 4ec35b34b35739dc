//go:build cgo

package rsasign

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"math/big"
	"runtime"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// libcrypto is the shared library Debian's libssl3 ships; dlopen finds it
// on the loader's path, so no OpenSSL headers are needed to build.
const libcrypto = "libcrypto.so.3"

func opensslLoad() error {
	if err := openssl.Init(libcrypto); err != nil {
		return fmt.Errorf("OpenSSL unavailable: %w", err)
	}
	return nil
}

func opensslVersion() string { return openssl.VersionText() }

type opensslSigner struct {
	k   *openssl.PrivateKeyRSA
	pub *rsa.PublicKey
}

func newOpenSSLSigner(priv *rsa.PrivateKey) (Signer, error) {
	priv.Precompute()
	if len(priv.Primes) != 2 {
		return nil, fmt.Errorf("rsasign: OpenSSL takes two-prime keys, not %d", len(priv.Primes))
	}
	pc := priv.Precomputed
	k, err := openssl.NewPrivateKeyRSA(bbig.Enc(priv.N), bbig.Enc(big.NewInt(int64(priv.E))), bbig.Enc(priv.D),
		bbig.Enc(priv.Primes[0]), bbig.Enc(priv.Primes[1]), bbig.Enc(pc.Dp), bbig.Enc(pc.Dq), bbig.Enc(pc.Qinv))
	if err != nil {
		return nil, fmt.Errorf("rsasign: OpenSSL key: %w", err)
	}
	return &opensslSigner{k: k, pub: &priv.PublicKey}, nil
}

func (s *opensslSigner) SignSHA256(digest []byte) ([]byte, error) {
	sig, err := openssl.SignRSAPKCS1v15(s.k, crypto.SHA256, digest)
	runtime.KeepAlive(s)
	return sig, err
}
func (s *opensslSigner) Public() *rsa.PublicKey { return s.pub }
func (*opensslSigner) Backend() Backend         { return OpenSSL }

func opensslVerify(pub *rsa.PublicKey, digest, sig []byte) error {
	k, err := openssl.NewPublicKeyRSA(bbig.Enc(pub.N), bbig.Enc(big.NewInt(int64(pub.E))))
	if err != nil {
		return err
	}
	return openssl.VerifyRSAPKCS1v15(k, crypto.SHA256, digest, sig)
}
