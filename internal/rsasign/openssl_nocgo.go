//go:build !cgo

package rsasign

import (
	"crypto/rsa"
	"errors"
)

// errNoCgo: loading libcrypto needs cgo, which this build was made without.
var errNoCgo = errors.New("OpenSSL unavailable: aksid was built without cgo")

func opensslLoad() error                               { return errNoCgo }
func opensslVersion() string                           { return "" }
func newOpenSSLSigner(*rsa.PrivateKey) (Signer, error) { return nil, errNoCgo }
func opensslVerify(*rsa.PublicKey, []byte, []byte) error {
	return errNoCgo
}
