package directory

import (
	"context"
	"crypto/x509"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// proofAudience is the audience Graph requires in a proof of possession
// (the legacy Azure AD Graph application ID).
const proofAudience = "00000002-0000-0000-c000-000000000000"

// KeyProof is Graph's proof of possession for addKey and removeKey: a JWT
// the caller signed with one of the object's current certificates.
type KeyProof struct {
	Token string
	// ClientNow is the caller's clock, the frame of the JWT's nbf and exp.
	ClientNow time.Time
}

// CheckKeyProof verifies p for an application or service principal: an
// RS256 JWT signed by one of its certificates that is valid on aksid's
// clock, issued by the object itself for proofAudience, valid at the
// caller's now and for ten minutes at most. Graph demands this so that
// only a holder of a key can roll keys without a directory role.
func (d *Directory) CheckKeyProof(ctx context.Context, tenantID, objectType, objectID string, p KeyProof) error {
	var keys []KeyCredential
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		h, err := holderOf(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		keys = *h.keys
		return nil
	})
	if err != nil {
		return err
	}
	bad := invalid("The proof of possession is invalid: it must be a JWT signed by one of the object's current certificates.")
	tok, err := jwt.ParseSigned(p.Token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return bad
	}
	now := d.clk.Now()
	for _, kc := range keys {
		if now.Before(kc.StartDateTime) || now.After(kc.EndDateTime) {
			continue
		}
		cert, err := x509.ParseCertificate(kc.CertDER)
		if err != nil {
			continue
		}
		var c jwt.Claims
		if tok.Claims(cert.PublicKey, &c) != nil {
			continue
		}
		if c.NotBefore == nil || c.Expiry == nil || c.Expiry.Time().Sub(c.NotBefore.Time()) > 10*time.Minute ||
			!strings.EqualFold(c.Issuer, objectID) {
			return bad
		}
		if c.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{proofAudience}, Time: p.ClientNow}, 5*time.Minute) != nil {
			return bad
		}
		return nil
	}
	return bad
}
