package guard

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// claims are the parts of a token (or a PoP request) the review reads
// beyond authn.Principal. They are read without verification: the
// signature was checked first, or they only word a refusal.
type claims struct {
	Iss   string   `json:"iss"`
	Aud   audience `json:"aud"`
	Exp   *int64   `json:"exp"`
	Idtyp string   `json:"idtyp"`
	// Groups is nil when the claim is absent, which is not "no groups".
	Groups     []string                  `json:"groups"`
	ClaimNames map[string]string         `json:"_claim_names"`
	Sources    map[string]map[string]any `json:"_claim_sources"`
	// A PoP request's host and time.
	U  string `json:"u"`
	Ts *int64 `json:"ts"`
}

// audience is aud as a list, whether the token has a string or an array.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	err := json.Unmarshal(b, &l)
	*a = l
	return err
}

// readClaims decodes a compact JWS's payload.
func readClaims(tok string) (claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims{}, errors.New("payload is not base64url")
	}
	var c claims
	if err := json.Unmarshal(b, &c); err != nil {
		return claims{}, errors.New("payload is not the expected JSON")
	}
	return c, nil
}

// overage is Guard's test: _claim_names.groups names a _claim_sources
// entry with a non-empty endpoint (which Guard only takes as a flag).
func (c claims) overage() bool {
	src, ok := c.ClaimNames["groups"]
	if !ok {
		return false
	}
	ep, _ := c.Sources[src]["endpoint"].(string)
	return ep != ""
}
