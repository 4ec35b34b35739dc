package directory

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// Errors from credential checks.
var (
	ErrSecretInvalid = errors.New("directory: invalid client secret")
	ErrSecretExpired = errors.New("directory: client secret expired")
)

// secretAlphabet is the character set of Entra's generated client secrets.
const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~.-"

// DefaultSecretLifetime is how long a new secret lives when the caller
// gives no end date: one year, as `az ad sp create-for-rbac` asks.
const DefaultSecretLifetime = 365 * 24 * time.Hour

// NewSecret returns a 40-character secret shaped like Entra's (three
// characters, the "8Q~" version marker, 34 more), drawn from d's randomness.
func (d *Directory) NewSecret() (string, error) {
	return SecretFrom(d.rand)
}

// SecretFrom draws a secret from r (an io.Reader of uniform bytes).
func SecretFrom(r interface{ Read([]byte) (int, error) }) (string, error) {
	const n = 37
	buf := make([]byte, 0, n*2)
	out := make([]byte, 0, 40)
	for len(out) < n {
		if len(buf) == 0 {
			buf = buf[:cap(buf)]
			if _, err := r.Read(buf); err != nil {
				return "", err
			}
		}
		b := buf[0]
		buf = buf[1:]
		// 256 is a multiple of 64, so masking keeps the draw uniform.
		out = append(out, secretAlphabet[b&63])
	}
	return string(out[:3]) + "8Q~" + string(out[3:]), nil
}

// PasswordSpec describes a new client secret. Zero times take defaults:
// start now, end one year on (aksid's clock).
type PasswordSpec struct {
	DisplayName string
	Start       time.Time
	End         time.Time
	// ClientNow is the caller's clock when it computed Start and End;
	// when set, both are moved from the caller's frame into aksid's.
	ClientNow time.Time
}

// AddPassword adds a client secret to application appID and returns the
// credential and the secret, which is shown only this once.
func (d *Directory) AddPassword(ctx context.Context, appID string, spec PasswordSpec) (NewPassword, error) {
	secret, err := d.NewSecret()
	if err != nil {
		return NewPassword{}, err
	}
	cred, err := d.newPassword(spec, secret)
	if err != nil {
		return NewPassword{}, err
	}
	err = d.updateApp(ctx, appID, func(app *Application) error {
		app.PasswordCredentials = append(app.PasswordCredentials, cred)
		return nil
	})
	return NewPassword{Credential: cred, Secret: secret}, err
}

// NewPassword is a client secret just added: its credential record and
// the secret itself, which is shown only this once.
type NewPassword struct {
	Credential PasswordCredential
	Secret     string
}

// addPasswordValue stores a credential for a secret chosen by the caller
// (bootstrap derives its secret from the data directory's master key).
func (d *Directory) addPasswordValue(ctx context.Context, appID string, spec PasswordSpec, secret string) (PasswordCredential, error) {
	cred, err := d.newPassword(spec, secret)
	if err != nil {
		return PasswordCredential{}, err
	}
	err = d.updateApp(ctx, appID, func(app *Application) error {
		app.PasswordCredentials = append(app.PasswordCredentials, cred)
		return nil
	})
	return cred, err
}

// newPassword builds the stored credential for secret: dates moved into
// aksid's frame and defaulted, the secret kept only as its hash.
func (d *Directory) newPassword(spec PasswordSpec, secret string) (PasswordCredential, error) {
	start, end := d.inAksidFrame(spec.Start, spec.ClientNow), d.inAksidFrame(spec.End, spec.ClientNow)
	if start.IsZero() {
		start = d.clk.Now().UTC()
	}
	if end.IsZero() {
		end = start.Add(DefaultSecretLifetime)
	}
	if !end.After(start) {
		return PasswordCredential{}, invalid("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential': it must be after startDateTime.")
	}
	sum := sha256.Sum256([]byte(secret))
	return PasswordCredential{
		KeyID: d.newID(), DisplayName: spec.DisplayName, Hint: secret[:3],
		StartDateTime: start, EndDateTime: end, SecretSHA256: sum[:],
	}, nil
}

// AddCertificate registers cert's public part on application appID.
func (d *Directory) AddCertificate(ctx context.Context, appID, displayName string, cert *x509.Certificate) (KeyCredential, error) {
	thumb := sha1.Sum(cert.Raw)
	cred := KeyCredential{
		KeyID: d.newID(), DisplayName: displayName, Type: "AsymmetricX509Cert", Usage: "Verify",
		CustomKeyIdentifier: strings.ToUpper(hex.EncodeToString(thumb[:])),
		StartDateTime:       cert.NotBefore.UTC(), EndDateTime: cert.NotAfter.UTC(), CertDER: cert.Raw,
	}
	err := d.updateApp(ctx, appID, func(app *Application) error {
		app.KeyCredentials = append(app.KeyCredentials, cred)
		return nil
	})
	return cred, err
}

func (d *Directory) updateApp(ctx context.Context, appID string, fn func(*Application) error) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		var app Application
		if err := store.GetJSON(tx, kindApp, strings.ToLower(appID), &app); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrApplicationNotFound
			}
			return err
		}
		if err := fn(&app); err != nil {
			return err
		}
		return store.PutJSON(tx, kindApp, app.AppID, app)
	})
}

// CheckSecret tells whether secret is one of app's client secrets and is
// valid at now (aksid's clock). It compares every stored hash in constant
// time so that timing reveals nothing about which key matched.
func CheckSecret(app Application, secret string, now time.Time) (PasswordCredential, error) {
	sum := sha256.Sum256([]byte(secret))
	var match *PasswordCredential
	for i := range app.PasswordCredentials {
		c := &app.PasswordCredentials[i]
		if subtle.ConstantTimeCompare(sum[:], c.SecretSHA256) == 1 {
			match = c
		}
	}
	if match == nil {
		return PasswordCredential{}, ErrSecretInvalid
	}
	if now.After(match.EndDateTime) || now.Before(match.StartDateTime) {
		return *match, ErrSecretExpired
	}
	return *match, nil
}

// FindCertificate returns the registered certificate of app whose SHA-1
// or SHA-256 thumbprint is thumb, or whose DER equals der when given.
func FindCertificate(app Application, sha1Thumb, sha256Thumb, der []byte) (*x509.Certificate, bool) {
	for _, kc := range app.KeyCredentials {
		s1 := sha1.Sum(kc.CertDER)
		s256 := sha256.Sum256(kc.CertDER)
		if (len(sha256Thumb) > 0 && subtle.ConstantTimeCompare(s256[:], sha256Thumb) == 1) ||
			(len(sha1Thumb) > 0 && subtle.ConstantTimeCompare(s1[:], sha1Thumb) == 1) ||
			(len(der) > 0 && subtle.ConstantTimeCompare(kc.CertDER, der) == 1) {
			cert, err := x509.ParseCertificate(kc.CertDER)
			if err != nil {
				continue
			}
			return cert, true
		}
	}
	return nil, false
}

// EnsurePassword adds a credential for a secret the caller derived (the
// bootstrap principal's) unless the app already holds it.
func (d *Directory) EnsurePassword(ctx context.Context, appID string, spec PasswordSpec, secret string) error {
	app, err := d.Application(ctx, appID)
	if err != nil {
		return err
	}
	if _, err := CheckSecret(app, secret, d.clk.Now()); !errors.Is(err, ErrSecretInvalid) {
		return nil
	}
	_, err = d.addPasswordValue(ctx, appID, spec, secret)
	return err
}
