package aks

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/store"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

const (
	kindOIDCIssuer = "aks_oidc_issuer" // lower(tenant/issuerID) → cluster ID
	oidcKeyLabel   = "aks-oidc-issuer-key"
	// OIDCHostSuffix ends the regional host names AKS publishes cluster
	// issuers on: https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/.
	OIDCHostSuffix = ".oic.prod-aks.azure.com"
	// DefaultSAAudience is what workload identity's webhook projects.
	DefaultSAAudience = "api://AzureADTokenExchange"
)

// IssuerURL is the issuer of a cluster in location, as AKS names it.
func IssuerURL(location, tenantID, issuerID string) string {
	return "https://" + location + OIDCHostSuffix + "/" + tenantID + "/" + issuerID + "/"
}

// applyOIDC turns on the cluster's OIDC issuer when the body asks for it
// (a key of its own, sealed like the CA key), refuses turning it off,
// and checks that workload identity has an issuer to rely on.
func (s *Service) applyOIDC(r *record, location string, props, asked map[string]any) error {
	want, _ := obj(asked, "oidcIssuerProfile")["enabled"].(bool)
	_, sent := obj(asked, "oidcIssuerProfile")["enabled"]
	if r.OIDCIssuerID != "" && sent && !want {
		return invalid("InvalidParameter", "The OIDC issuer cannot be disabled once it has been enabled.")
	}
	if want && r.OIDCIssuerID == "" {
		var err error
		if r.OIDCKey, err = s.newIssuerKey(); err != nil {
			return err
		}
		r.OIDCIssuerID = uuid.NewString()
	}
	profile := map[string]any{"enabled": r.OIDCIssuerID != ""}
	if r.OIDCIssuerID != "" {
		profile["issuerURL"] = IssuerURL(location, r.TenantID, r.OIDCIssuerID)
	}
	props["oidcIssuerProfile"] = profile
	wi, _ := obj(obj(props, "securityProfile"), "workloadIdentity")["enabled"].(bool)
	if wi && r.OIDCIssuerID == "" {
		return invalid("InvalidParameter", "Enabling workload identity requires enabling the OIDC issuer profile (--enable-oidc-issuer).")
	}
	return nil
}

// issuerByDefaultFrom is the first release whose new clusters AKS gives
// an OIDC issuer without being asked (az aks create without
// --enable-oidc-issuer); clusters made before keep what they had.
const issuerByDefaultFrom = 34

// defaultOIDC asks for the OIDC issuer of a new cluster at version when
// the request leaves it unsaid, as AKS does from 1.34; an explicit false
// is kept (az never sends one).
func defaultOIDC(props map[string]any, version string) {
	asked, _ := props["oidcIssuerProfile"].(map[string]any)
	if _, sent := asked["enabled"]; sent {
		return
	}
	maj, rest, _ := strings.Cut(version, ".")
	min, _, _ := strings.Cut(rest, ".")
	m, err := strconv.Atoi(min)
	if maj == "1" && err == nil && m >= issuerByDefaultFrom {
		obj(props, "oidcIssuerProfile")["enabled"] = true
	}
}

// issuerKey is a cluster issuer's signing key and its key ID.
type issuerKey struct {
	key *rsa.PrivateKey
	kid string
}

// oidcKey opens the cluster's issuer key.
func (s *Service) oidcKey(r record) (issuerKey, error) {
	der, err := s.seal.Open(oidcKeyLabel, r.OIDCKey)
	if err != nil {
		return issuerKey{}, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return issuerKey{}, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return issuerKey{}, errNotRSA
	}
	kid, err := KeyID(&key.PublicKey)
	if err != nil {
		return issuerKey{}, err
	}
	return issuerKey{key, kid}, nil
}

// KeyID names a service-account signing key as kube-apiserver does: the
// SHA-256 of the public key's PKIX DER, base64url. aksid's own tokens and
// the cluster's API server's then carry the kid the issuer publishes.
func KeyID(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// OIDCIssuer is what a cluster's issuer publishes.
type OIDCIssuer struct {
	Issuer string
	Keys   jose.JSONWebKeySet
}

// Issuer returns the published documents of the issuer tenantID/issuerID.
func (s *Service) Issuer(ctx context.Context, tenantID, issuerID string) (OIDCIssuer, error) {
	var id string
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		b, err := tx.Get(kindOIDCIssuer, strings.ToLower(tenantID+"/"+issuerID))
		id = string(b)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return OIDCIssuer{}, azerr.New(azerr.NotFound, "NotFound", "No OIDC issuer %s/%s.", tenantID, issuerID)
	}
	if err != nil {
		return OIDCIssuer{}, err
	}
	r, err := s.load(ctx, id)
	if err != nil || r.OIDCIssuerID == "" || !strings.EqualFold(r.OIDCIssuerID, issuerID) {
		return OIDCIssuer{}, azerr.New(azerr.NotFound, "NotFound", "No OIDC issuer %s/%s.", tenantID, issuerID)
	}
	ik, err := s.oidcKey(r)
	if err != nil {
		return OIDCIssuer{}, err
	}
	keys := []jose.JSONWebKey{{Key: &ik.key.PublicKey, KeyID: ik.kid, Algorithm: string(jose.RS256), Use: "sig"}}
	if prev, ok := previousKey(r, s.clk.Now()); ok {
		kid, err := KeyID(prev)
		if err != nil {
			return OIDCIssuer{}, err
		}
		keys = append(keys, jose.JSONWebKey{Key: prev, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return OIDCIssuer{Issuer: issuerOf(r), Keys: jose.JSONWebKeySet{Keys: keys}}, nil
}

func issuerOf(r record) string {
	p, _ := obj(r.Model, "properties")["oidcIssuerProfile"].(map[string]any)
	return str(p["issuerURL"])
}

// SATokenRequest asks for a projected service-account token.
type SATokenRequest struct {
	ClusterID      string
	Namespace      string
	ServiceAccount string
	Audiences      []string      // default: api://AzureADTokenExchange
	Duration       time.Duration // default: one hour
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// ServiceAccountToken mints the token the kubelet would project into a
// pod of the cluster: signed by the cluster's issuer key, sub
// system:serviceaccount:<ns>:<name>, times on the wall clock.
func (s *Service) ServiceAccountToken(ctx context.Context, req SATokenRequest) (string, error) {
	if !dnsLabel.MatchString(req.Namespace) {
		return "", invalid("InvalidParameter", "Namespace '%s' is not a valid DNS label.", req.Namespace)
	}
	if !dnsSubdomain.MatchString(req.ServiceAccount) {
		return "", invalid("InvalidParameter", "Service account name '%s' is not a valid DNS subdomain.", req.ServiceAccount)
	}
	if req.Duration == 0 {
		req.Duration = time.Hour
	}
	if req.Duration < 10*time.Minute || req.Duration > 48*time.Hour {
		return "", invalid("InvalidParameter", "The token duration must be between 10m and 48h, as the kubelet allows.")
	}
	if len(req.Audiences) == 0 {
		req.Audiences = []string{DefaultSAAudience}
	}
	r, err := s.load(ctx, req.ClusterID)
	if err != nil {
		return "", err
	}
	if r.OIDCIssuerID == "" {
		return "", invalid("OIDCIssuerNotEnabled", "The cluster has no OIDC issuer: update it with --enable-oidc-issuer first.")
	}
	ik, err := s.oidcKey(r)
	if err != nil {
		return "", err
	}
	key, kid := ik.key, ik.kid
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		return "", err
	}
	now := s.wall.Now()
	claims := jwt.Claims{Issuer: issuerOf(r), Subject: "system:serviceaccount:" + req.Namespace + ":" + req.ServiceAccount,
		Audience: req.Audiences, IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(req.Duration)), ID: uuid.NewString()}
	k8s := map[string]any{"kubernetes.io": map[string]any{"namespace": req.Namespace,
		"serviceaccount": map[string]string{"name": req.ServiceAccount, "uid": saUID(r.OIDCIssuerID, req.Namespace, req.ServiceAccount)}}}
	return jwt.Signed(signer).Claims(claims).Claims(k8s).Serialize()
}

// saUID gives a service account a stable UID per cluster.
func saUID(issuerID, ns, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(issuerID+"/"+ns+"/"+name)).String()
}
