// Package guard authenticates Entra tokens for managed clusters' API servers as AKS's Guard token-review webhook does.
//
// The rules follow kubeguard/guard's azure provider
// (auth/providers/azure/azure.go, pop_tokenverifier.go): only v1 tokens
// of the cluster's tenant (issuer https://sts.windows.net/<tid>/, or
// aksid's own v1 issuer when reached directly); username the upn claim,
// else the object ID; extra["oid"] the object ID and no uid; groups the
// groups claim as is, and on overage (past 200 groups) the directory's
// transitive groups, refused for applications; PoP signed requests
// (typ "pop") whose u names the cluster, checked before their token.
// Unlike Guard, the audience is always checked: the AKS server application
// for managed Entra, the legacy server application otherwise.
package guard

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/pop"
)

// User is who a token names, as a TokenReview's status.user.
type User struct {
	Username string
	UID      string // always "": Guard sets none
	Groups   []string
	Extra    map[string][]string
}

// RefusedError is a token Guard would refuse: the review answers
// authenticated=false with Error() as status.error. Other errors are
// failures to decide (the directory could not be read).
type RefusedError struct {
	Reason string
	Err    error // the cause (authn.ErrExpired, pop.ErrHost, …), for errors.Is
}

func (e *RefusedError) Error() string { return e.Reason }
func (e *RefusedError) Unwrap() error { return e.Err }

// Groups resolves an object's transitive group IDs on overage, as Guard's
// getMemberGroups call to Graph (directory.Directory has it).
type Groups interface {
	TransitiveGroups(ctx context.Context, tenantID, objectID string) ([]string, error)
}

// Applications finds a legacy server application, whose identifier URIs
// are audiences too (directory.Directory has it).
type Applications interface {
	Application(ctx context.Context, appID string) (directory.Application, error)
}

// Options are a reviewer's collaborators.
type Options struct {
	Validator *authn.Validator // checks alg, signature, exp, nbf, iss, aud
	Groups    Groups
	Apps      Applications // optional: legacy audiences are then the app ID alone
	// Wall is the clients' clock a PoP request's ts is read on.
	Wall clock.Clock
	// IssuerBases are aksid's own URL bases (scheme://host) whose v1
	// issuers are accepted beside Azure's https://sts.windows.net.
	IssuerBases []string
	// PoPValidity is how long after its ts a PoP request is accepted
	// (Guard's --azure.pop-token-validity-duration, default 15 min).
	PoPValidity time.Duration
}

// Reviewer reviews tokens for clusters.
type Reviewer struct {
	o     Options
	bases []string
}

// New returns a reviewer.
func New(o Options) *Reviewer {
	bases := []string{origin.AzureV1Base}
	for _, b := range o.IssuerBases {
		if b = strings.TrimRight(b, "/"); b != "" && !slices.Contains(bases, b) {
			bases = append(bases, b)
		}
	}
	return &Reviewer{o: o, bases: bases}
}

// Guard's message prefixes, which kube-apiserver logs from status.error.
const (
	verifyPrefix = "failed to verify token for azure: "
	popPrefix    = "failed to verify pop token: "
)

// Review authenticates token for cluster c.
func (r *Reviewer) Review(ctx context.Context, c Cluster, token string) (User, error) {
	token = strings.TrimSpace(token)
	auds, err := r.audiences(ctx, c)
	if err != nil {
		return User{}, err
	}
	accept := authn.Accept{Audiences: auds, IssuerBases: r.bases}
	var p authn.Principal
	at := token
	if isPoP(token) {
		v, err := pop.New(pop.Options{Host: c.ID, Clock: r.o.Wall, Validity: r.o.PoPValidity})
		if err != nil {
			return User{}, err
		}
		// pop.Verifier.Authenticate's two steps, apart, so that a refused
		// inner token can be named in the message.
		res, err := v.Verify(token)
		if err != nil {
			return User{}, &RefusedError{Reason: popPrefix + r.popReason(err, c.ID, token), Err: err}
		}
		at = res.AccessToken
		if p, err = r.o.Validator.Validate(ctx, at, accept); err != nil {
			return User{}, r.refusal(err, accept, c, at)
		}
	} else if p, err = r.o.Validator.Validate(ctx, token, accept); err != nil {
		return User{}, r.refusal(err, accept, c, token)
	}
	if want := r.issuer(c.TenantID, p.Issuer); !strings.EqualFold(p.TenantID, c.TenantID) || p.Issuer != want {
		return User{}, &RefusedError{Reason: fmt.Sprintf("%soidc: id token issued by a different provider, expected %q got %q",
			verifyPrefix, want, p.Issuer), Err: authn.ErrInvalid}
	}
	cl, err := readClaims(at)
	if err != nil {
		return User{}, &RefusedError{Reason: "error parsing claims: " + err.Error(), Err: authn.ErrInvalid}
	}
	u := User{Username: p.UPN, Extra: map[string][]string{"oid": {p.ObjectID}}}
	if u.Username == "" {
		u.Username = p.ObjectID
	}
	switch {
	case cl.Groups != nil:
		u.Groups = cl.Groups
	case cl.overage():
		if strings.EqualFold(cl.Idtyp, "app") {
			return User{}, &RefusedError{Reason: "service principal with group membership exceeding 200 is not supported. " +
				"See https://learn.microsoft.com/en-us/azure/aks/kubelogin-authentication#kubelogin-authentication-in-aks-limitations"}
		}
		if u.Groups, err = r.o.Groups.TransitiveGroups(ctx, p.TenantID, p.ObjectID); err != nil {
			return User{}, fmt.Errorf("guard: failed to get groups: %w", err)
		}
	}
	return u, nil
}

// audiences are the aud values the cluster's tokens may carry: the server
// app's ID and, for a legacy app, its identifier URIs.
func (r *Reviewer) audiences(ctx context.Context, c Cluster) ([]string, error) {
	app := c.serverApp()
	if app == "" || c.TenantID == "" {
		return nil, ErrNoEntra
	}
	auds := []string{app}
	if c.Managed || r.o.Apps == nil {
		return auds, nil
	}
	a, err := r.o.Apps.Application(ctx, app)
	if errors.Is(err, directory.ErrApplicationNotFound) {
		return auds, nil // a deleted server app: its ID is still the audience
	}
	if err != nil {
		return nil, err
	}
	return append(auds, a.IdentifierURIs...), nil
}

// issuer is the v1 issuer expected of tid: on the base iss was issued on
// when that is one of ours, else Azure's.
func (r *Reviewer) issuer(tid, iss string) string {
	for _, b := range r.bases {
		if strings.HasPrefix(iss, b+"/") {
			return b + "/" + tid + "/"
		}
	}
	return r.bases[0] + "/" + tid + "/"
}

// refusal words an authn refusal as Guard's go-oidc verifier does,
// reading the claims it names from the (unverified) token.
func (r *Reviewer) refusal(err error, a authn.Accept, c Cluster, tok string) error {
	switch {
	case errors.Is(err, authn.ErrExpired):
		exp := "unknown"
		if cl, e := readClaims(tok); e == nil && cl.Exp != nil {
			exp = time.Unix(*cl.Exp, 0).UTC().String()
		}
		return &RefusedError{Reason: verifyPrefix + "oidc: token is expired (Token Expiry: " + exp + ")", Err: err}
	case errors.Is(err, authn.ErrAudience):
		got := "[]"
		if cl, e := readClaims(tok); e == nil {
			b, _ := json.Marshal(cl.Aud)
			got = string(b)
		}
		return &RefusedError{Reason: fmt.Sprintf("%soidc: expected audience %q got %s", verifyPrefix, a.Audiences[0], got), Err: err}
	case errors.Is(err, authn.ErrInvalid) && strings.HasSuffix(err.Error(), ": issuer"):
		iss := ""
		if cl, e := readClaims(tok); e == nil {
			iss = cl.Iss
		}
		return &RefusedError{Reason: fmt.Sprintf("%soidc: id token issued by a different provider, expected %q got %q",
			verifyPrefix, r.issuer(c.TenantID, iss), iss), Err: err}
	case errors.Is(err, authn.ErrInvalid):
		return &RefusedError{Reason: verifyPrefix + strings.TrimPrefix(err.Error(), "authn: "), Err: err}
	}
	return err
}

// popReason is Guard's wording of the commonest PoP refusals.
func (r *Reviewer) popReason(err error, host, shr string) string {
	cl, _ := readClaims(shr)
	switch {
	case errors.Is(err, pop.ErrHost):
		return fmt.Sprintf("Invalid Pop token due to host mismatch. Expected: %q, received: %q", host, cl.U)
	case errors.Is(err, pop.ErrExpired) && cl.Ts != nil:
		return fmt.Sprintf("Token is expired. Now: %v, Valid till: %v", r.o.Wall.Now().UTC(), time.Unix(*cl.Ts, 0).Add(r.popValidity()).UTC())
	case errors.Is(err, pop.ErrUnbound):
		return "PoP token validate failed: 'cnf' claim mismatch"
	}
	return strings.TrimPrefix(err.Error(), "pop: ")
}

func (r *Reviewer) popValidity() time.Duration {
	if r.o.PoPValidity > 0 {
		return r.o.PoPValidity
	}
	return pop.DefaultValidity
}

// isPoP tells a signed HTTP request (header typ "pop") from a bearer token.
func isPoP(tok string) bool {
	head, _, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	var h struct {
		Typ string `json:"typ"`
	}
	return json.Unmarshal(b, &h) == nil && strings.EqualFold(h.Typ, "pop")
}
