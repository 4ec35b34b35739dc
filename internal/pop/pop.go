// Package pop verifies proof-of-possession tokens: the signed HTTP
// requests (SHR) kubelogin --pop-enabled hands to kubectl, which wrap an
// access token bound to the client's key.
//
// An SHR is a compact JWS, header {"typ":"pop","alg":"RS256","kid":<RFC
// 7638 thumbprint>}, payload {"at":<access token>,"ts":<unix seconds>,
// "u":<host>,"cnf":{"jwk":<public key>},"nonce":…}, signed with the key in
// cnf.jwk. The checks follow AKS's guard, plus a bound on ts in the future
// and a minimum key size that guard does not have.
package pop

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/clock"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Errors; each wraps ErrInvalid so a face can map them to one 401.
var (
	ErrInvalid    = errors.New("pop: invalid token")
	ErrMalformed  = fmt.Errorf("%w: not a signed HTTP request", ErrInvalid)
	ErrAlgorithm  = fmt.Errorf("%w: alg is not RS256", ErrInvalid)
	ErrType       = fmt.Errorf("%w: typ is not pop", ErrInvalid)
	ErrKey        = fmt.Errorf("%w: cnf.jwk is not an RSA public key of 2048 bits or more", ErrInvalid)
	ErrThumbprint = fmt.Errorf("%w: kid is not the thumbprint of cnf.jwk", ErrInvalid)
	ErrSignature  = fmt.Errorf("%w: signature", ErrInvalid)
	ErrExpired    = fmt.Errorf("%w: ts is older than the validity window", ErrInvalid)
	ErrFuture     = fmt.Errorf("%w: ts is in the future", ErrInvalid)
	ErrHost       = fmt.Errorf("%w: u is not this host", ErrInvalid)
	// ErrUnbound: the inner token is not bound to the signing key (no
	// cnf.kid, or another key's), e.g. a bearer token wrapped by a thief.
	ErrUnbound = fmt.Errorf("%w: access token not bound to this key", ErrInvalid)
)

// Defaults, as guard's --azure.pop-token-validity-duration.
const (
	DefaultValidity   = 15 * time.Minute
	DefaultFutureSkew = 5 * time.Minute
	minKeyBits        = 2048
)

// Options configure a verifier.
type Options struct {
	// Host is the expected u: for AKS on Arc, the cluster's ARM ID.
	Host string
	// Validity is how long after ts the SHR is accepted (default 15 min).
	Validity time.Duration
	// FutureSkew is how far ts may run ahead of Clock (default 5 min):
	// a ts beyond it would make the SHR live longer than Validity.
	FutureSkew time.Duration
	// Clock is the clients' (wall) clock ts is compared with.
	Clock clock.Clock
}

// Verifier checks SHRs for one host.
type Verifier struct{ o Options }

// New returns a verifier; Host and Clock are required.
func New(o Options) (*Verifier, error) {
	if strings.TrimSpace(o.Host) == "" || o.Clock == nil {
		return nil, errors.New("pop: verifier needs a host and a clock")
	}
	if o.Validity <= 0 {
		o.Validity = DefaultValidity
	}
	if o.FutureSkew <= 0 {
		o.FutureSkew = DefaultFutureSkew
	}
	return &Verifier{o: o}, nil
}

// Result is a verified SHR. AccessToken is only known to be bound to the
// key; it still needs full validation (see Authenticate).
type Result struct {
	AccessToken string
	Thumbprint  string // the key's RFC 7638 SHA-256 thumbprint, base64url
	Timestamp   time.Time
	Nonce       string
}

// shrPayload is the SHR body kubelogin and MSAL write.
type shrPayload struct {
	At  string `json:"at"`
	Ts  *int64 `json:"ts"`
	U   string `json:"u"`
	Cnf struct {
		JWK json.RawMessage `json:"jwk"`
	} `json:"cnf"`
	Nonce string `json:"nonce"`
}

// anyAlg lets go-jose parse any signature algorithm so that a wrong one
// is reported as such; only RS256 is then accepted.
var anyAlg = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.HS256, jose.HS384, jose.HS512}

// Verify checks shr and returns the access token it carries.
func (v *Verifier) Verify(shr string) (Result, error) {
	if strings.Count(shr, ".") != 2 {
		return Result{}, ErrMalformed
	}
	jws, err := jose.ParseSignedCompact(shr, anyAlg)
	if err != nil || len(jws.Signatures) != 1 {
		return Result{}, ErrMalformed
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(jose.RS256) {
		return Result{}, ErrAlgorithm
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "pop") {
		return Result{}, ErrType
	}
	if h.KeyID == "" {
		return Result{}, ErrThumbprint
	}
	// The key is inside the payload it signs: read it, check it is the
	// one the header names, then let it verify the signature.
	var unsafe shrPayload
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unsafe); err != nil {
		return Result{}, ErrMalformed
	}
	pk, err := publicKey(unsafe.Cnf.JWK)
	if err != nil {
		return Result{}, err
	}
	pub, thumb := pk.pub, pk.thumb
	if subtle.ConstantTimeCompare([]byte(thumb), []byte(h.KeyID)) != 1 {
		return Result{}, ErrThumbprint
	}
	signed, err := jws.Verify(pub)
	if err != nil {
		return Result{}, ErrSignature
	}
	var p shrPayload
	if err := json.Unmarshal(signed, &p); err != nil || p.At == "" || p.Ts == nil {
		return Result{}, ErrMalformed
	}
	ts := time.Unix(*p.Ts, 0)
	now := v.o.Clock.Now()
	if now.After(ts.Add(v.o.Validity)) {
		return Result{}, ErrExpired
	}
	if ts.After(now.Add(v.o.FutureSkew)) {
		return Result{}, ErrFuture
	}
	if !strings.EqualFold(p.U, v.o.Host) {
		return Result{}, ErrHost
	}
	if err := boundTo(p.At, thumb); err != nil {
		return Result{}, err
	}
	return Result{AccessToken: p.At, Thumbprint: thumb, Timestamp: ts, Nonce: p.Nonce}, nil
}

// publicKey reads cnf.jwk: an RSA public key (private members are
// refused) of at least 2048 bits, and its thumbprint.
func publicKey(raw json.RawMessage) (popKey, error) {
	var k jose.JSONWebKey
	if len(raw) == 0 || k.UnmarshalJSON(raw) != nil || !k.IsPublic() {
		return popKey{}, ErrKey
	}
	pub, ok := k.Key.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() < minKeyBits {
		return popKey{}, ErrKey
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return popKey{}, ErrKey
	}
	return popKey{pub, base64.RawURLEncoding.EncodeToString(sum)}, nil
}

// popKey is the request's key and its RFC 7638 thumbprint.
type popKey struct {
	pub   *rsa.PublicKey
	thumb string
}

// boundTo checks that the access token's cnf.kid names the thumbprint.
// Its signature is not checked here: Authenticate, or the caller, does.
func boundTo(at, thumb string) error {
	tok, err := jwt.ParseSigned(at, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fmt.Errorf("%w: inner token: %v", ErrMalformed, err)
	}
	var c struct {
		Cnf map[string]string `json:"cnf"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return ErrUnbound // includes a cnf that is not a map of strings, as guard
	}
	kid := c.Cnf["kid"]
	if kid == "" || subtle.ConstantTimeCompare([]byte(kid), []byte(thumb)) != 1 {
		return ErrUnbound
	}
	return nil
}

// Authenticated is a verified request's caller and what it carried.
type Authenticated struct {
	Principal authn.Principal
	Result
}

// Authenticate verifies shr and then validates its access token fully
// (signature, issuer, audience, lifetime) with val.
func (v *Verifier) Authenticate(ctx context.Context, shr string, val *authn.Validator, a authn.Accept) (Authenticated, error) {
	r, err := v.Verify(shr)
	if err != nil {
		return Authenticated{}, err
	}
	p, err := val.Validate(ctx, r.AccessToken, a)
	if err != nil {
		return Authenticated{}, err
	}
	return Authenticated{Principal: p, Result: r}, nil
}
