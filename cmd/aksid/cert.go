package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// newCertFile makes an RSA key and a self-signed certificate for a
// service principal, as `az ad sp create-for-rbac --create-cert` does, and
// writes both to a 0600 file: PEM (PKCS#8 key first, which kubelogin
// requires), or PKCS#12 when the name ends in .pfx, in the legacy
// encryption (3DES, SHA-1 MAC) that kubelogin's and azidentity's decoder
// reads. The key never leaves this process: only the certificate goes to
// aksid.
func newCertFile(name string, years int, path, pfxPassword string) (certDER []byte, written string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(years, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	var f *os.File
	if path == "" {
		home, herr := os.UserHomeDir()
		if herr != nil {
			home = "."
		}
		f, err = os.CreateTemp(home, "aksid-sp-*.pem")
	} else {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	abs, _ := filepath.Abs(f.Name())
	if strings.HasSuffix(strings.ToLower(path), ".pfx") {
		cert, err := x509.ParseCertificate(certDER)
		if err != nil {
			return nil, "", err
		}
		pfx, err := pkcs12.Legacy.Encode(key, cert, nil, pfxPassword)
		if err != nil {
			return nil, "", err
		}
		if _, err := f.Write(pfx); err != nil {
			return nil, "", err
		}
		return certDER, abs, f.Close()
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}); err != nil {
		return nil, "", err
	}
	if err := pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: certDER}); err != nil {
		return nil, "", err
	}
	return certDER, abs, f.Close()
}
