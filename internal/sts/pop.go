package sts

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// Proof-of-possession: a client asks with token_type=pop and req_cnf, the
// base64url of {"kid":"<RFC 7638 thumbprint>","xms_ksl":"sw"}; the access
// token then carries that as its cnf claim and the response says
// token_type pop. Only the kid form is taken: MSAL notes that Entra
// supports no other req_cnf form (no inline jwk, jku or jwe). Every grant
// goes through Token, so the binding is decided here, once, per request:
// a refresh token neither keeps nor drops a binding by itself.

// Token types a client may ask for.
const (
	tokenTypeBearer = "Bearer"
	tokenTypePoP    = "pop"
)

// confirmation is the cnf claim that binds a token to the client's key.
// Guard reads cnf as a map of strings, so both members are strings.
type confirmation struct {
	Kid string `json:"kid"`
	KSL string `json:"xms_ksl,omitempty"` // where the key lives: sw or uhw
}

// popFrom reads token_type and req_cnf: nil for a bearer request, the
// binding for a PoP one, or the refusal for anything malformed.
func popFrom(f url.Values) (*confirmation, error) {
	switch tt := f.Get("token_type"); {
	case tt == "" || strings.EqualFold(tt, tokenTypeBearer):
		return nil, nil // req_cnf means nothing without token_type=pop
	case !strings.EqualFold(tt, tokenTypePoP):
		return nil, errInvalidParam("token_type")
	}
	raw := f.Get("req_cnf")
	if raw == "" {
		return nil, errMissingParam("req_cnf")
	}
	// MSAL Go and .NET send unpadded base64url, MSAL.js pads it.
	b, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimRight(raw, "="))
	if err != nil {
		return nil, errInvalidParam("req_cnf")
	}
	var c confirmation
	if err := json.Unmarshal(b, &c); err != nil || !isThumbprint(c.Kid) {
		return nil, errInvalidParam("req_cnf")
	}
	switch c.KSL {
	case "", "sw", "uhw":
	default:
		return nil, errInvalidParam("req_cnf")
	}
	return &c, nil
}

// isThumbprint tells whether kid can be an RFC 7638 SHA-256 thumbprint:
// 32 bytes in unpadded base64url.
func isThumbprint(kid string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(kid)
	return err == nil && len(b) == 32
}

// tokenType is the token_type a response carries.
func (c *confirmation) tokenType() string {
	if c != nil {
		return tokenTypePoP
	}
	return tokenTypeBearer
}
