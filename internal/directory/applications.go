package directory

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

// KeyCredentialSpec is a certificate credential as a client sends it.
// A spec without Key names an existing credential by KeyID and keeps it:
// Graph returns keys as null, so clients that PATCH the list back (az
// `credential reset --cert --append`) send the old entries without keys.
type KeyCredentialSpec struct {
	KeyID       string // empty: a new GUID
	DisplayName string
	Type        string // AsymmetricX509Cert (the default)
	Usage       string // Verify (the default)
	Key         []byte // DER certificate
	Start, End  time.Time
}

// ApplicationPatch changes an application; nil fields are left alone.
type ApplicationPatch struct {
	DisplayName                *string
	IdentifierURIs             *[]string
	PublicClient               *bool
	AccessTokenAcceptedVersion *int
	KeyCredentials             *[]KeyCredentialSpec
	Extra                      Extra // a JSON null removes the property
	ClientNow                  time.Time
}

// Applications returns the applications registered in tenantID.
func (d *Directory) Applications(ctx context.Context, tenantID string) ([]Application, error) {
	var out []Application
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		hits, err := tx.Find(kindApp, store.Query{Index: byTenant, Terms: []string{term("", tenantID)}})
		for _, h := range hits {
			var a Application
			if err := unmarshal(h.Value, &a); err != nil {
				return err
			}
			if !a.ManagedIdentity {
				out = append(out, a)
			}
		}
		return err
	})
	return out, err
}

// ApplicationByObjectID finds an application of tenantID by its object ID.
func (d *Directory) ApplicationByObjectID(ctx context.Context, tenantID, objectID string) (Application, error) {
	var app Application
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		app, err = appByObject(tx, tenantID, objectID)
		return err
	})
	return app, err
}

// UpdateApplication applies p to an application of tenantID, keeping the
// identifier-URI index and its principals' names in step.
func (d *Directory) UpdateApplication(ctx context.Context, tenantID, objectID string, p ApplicationPatch) (Application, error) {
	if p.DisplayName != nil && strings.TrimSpace(*p.DisplayName) == "" {
		return Application{}, invalid("Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	if p.AccessTokenAcceptedVersion != nil && (*p.AccessTokenAcceptedVersion < 0 || *p.AccessTokenAcceptedVersion > 2) {
		return Application{}, invalid("Invalid value specified for property 'api.requestedAccessTokenVersion' of resource 'Application'.")
	}
	if p.IdentifierURIs != nil {
		if err := validateURIs(*p.IdentifierURIs); err != nil {
			return Application{}, err
		}
	}
	var out Application
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		app, err := appByObject(tx, tenantID, objectID)
		if err != nil {
			return err
		}
		if p.DisplayName != nil {
			app.DisplayName = *p.DisplayName
		}
		if p.PublicClient != nil {
			app.PublicClient = *p.PublicClient
		}
		if p.AccessTokenAcceptedVersion != nil {
			app.AccessTokenAcceptedVersion = *p.AccessTokenAcceptedVersion
		}
		if p.IdentifierURIs != nil {
			if err := releaseURIs(tx, app.IdentifierURIs); err != nil {
				return err
			}
			if err := claimURIs(tx, app.AppID, *p.IdentifierURIs); err != nil {
				return err
			}
			app.IdentifierURIs = append([]string{}, *p.IdentifierURIs...)
			if err := syncPrincipalNames(tx, app); err != nil {
				return err
			}
		}
		if p.KeyCredentials != nil {
			if app.KeyCredentials, err = d.mergeKeyCredentials(app.KeyCredentials, *p.KeyCredentials, p.ClientNow); err != nil {
				return err
			}
		}
		app.Extra = mergeExtra(app.Extra, p.Extra)
		out = app
		return store.PutJSON(tx, kindApp, app.AppID, app)
	})
	return out, err
}

// DeleteApplication removes an application of tenantID and, as in Entra,
// its service principals.
func (d *Directory) DeleteApplication(ctx context.Context, tenantID, objectID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		app, err := appByObject(tx, tenantID, objectID)
		if err != nil {
			return err
		}
		if err := releaseURIs(tx, app.IdentifierURIs); err != nil {
			return err
		}
		if err := tx.Delete(kindApp, app.AppID); err != nil {
			return err
		}
		if err := deleteIfPresent(tx, kindAppObject, app.ObjectID); err != nil {
			return err
		}
		if err := dropPairs(tx, kindOwner, kindOwned, app.TenantID, app.ObjectID); err != nil {
			return err
		}
		sps, err := principalsOfApp(tx, app.AppID)
		if err != nil {
			return err
		}
		for _, sp := range sps {
			if err := deletePrincipal(tx, sp); err != nil {
				return err
			}
		}
		return nil
	})
}

// appByObject reads an application of tenantID by object ID. Stores
// written before the app_object records existed are searched through the
// store's index instead.
func appByObject(tx store.Tx, tenantID, objectID string) (Application, error) {
	id := strings.ToLower(objectID)
	var app Application
	b, err := tx.Get(kindAppObject, id)
	switch {
	case err == nil:
		if err := store.GetJSON(tx, kindApp, string(b), &app); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return Application{}, ErrApplicationNotFound
			}
			return Application{}, err
		}
	case errors.Is(err, store.ErrNotFound):
		if _, perr := uuid.Parse(id); perr != nil {
			return Application{}, ErrApplicationNotFound
		}
		hits, err := tx.Find(kindApp, store.Query{Index: ByID, Terms: []string{term(tenantID, id)}})
		if err != nil {
			return Application{}, err
		}
		if len(hits) == 0 {
			return Application{}, ErrApplicationNotFound
		}
		if err := unmarshal(hits[0].Value, &app); err != nil {
			return Application{}, err
		}
	default:
		return Application{}, err
	}
	if app.TenantID != tenantID {
		return Application{}, ErrApplicationNotFound
	}
	return app, nil
}

func validateURIs(uris []string) error {
	seen := map[string]bool{}
	for _, u := range uris {
		p, err := url.Parse(strings.TrimSpace(u))
		if strings.TrimSpace(u) == "" || err != nil || p.Scheme == "" || len(u) > 1024 {
			return invalid("Invalid value specified for property 'identifierUris' of resource 'Application'.")
		}
		n := NormalizeURI(u)
		if seen[n] {
			return invalid("Invalid value specified for property 'identifierUris' of resource 'Application'.")
		}
		seen[n] = true
	}
	return nil
}

func claimURIs(tx store.Tx, appID string, uris []string) error {
	for _, u := range uris {
		if err := tx.Create(kindAppURI, NormalizeURI(u), []byte(appID)); err != nil {
			if errors.Is(err, store.ErrExists) {
				return conflict("Another object with the same value for property identifierUris already exists.")
			}
			return err
		}
	}
	return nil
}

func releaseURIs(tx store.Tx, uris []string) error {
	for _, u := range uris {
		if err := deleteIfPresent(tx, kindAppURI, NormalizeURI(u)); err != nil {
			return err
		}
	}
	return nil
}

func deleteIfPresent(tx store.Tx, kind, key string) error {
	if err := tx.Delete(kind, key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// syncPrincipalNames gives app's principals the names Entra derives from
// it: the appId and the identifier URIs.
func syncPrincipalNames(tx store.Tx, app Application) error {
	sps, err := principalsOfApp(tx, app.AppID)
	if err != nil {
		return err
	}
	for _, sp := range sps {
		sp.ServicePrincipalNames = append([]string{app.AppID}, app.IdentifierURIs...)
		if err := store.PutJSON(tx, kindSP, sp.TenantID+"/"+sp.AppID, sp); err != nil {
			return err
		}
	}
	return nil
}

// mergeKeyCredentials turns the client's list into the stored one: new
// certificates are parsed and thumbprinted, entries without a key keep
// the stored credential of the same keyId, and omitted ones go.
func (d *Directory) mergeKeyCredentials(existing []KeyCredential, specs []KeyCredentialSpec, clientNow time.Time) ([]KeyCredential, error) {
	bad := invalid("Invalid value specified for property 'keyCredentials' of resource 'Application'.")
	out := make([]KeyCredential, 0, len(specs))
	seen := map[string]bool{}
	for _, s := range specs {
		keyID := strings.ToLower(s.KeyID)
		if keyID != "" {
			if _, err := uuid.Parse(keyID); err != nil || len(keyID) != 36 {
				return nil, bad
			}
		}
		if s.Key == nil {
			kc, ok := findKey(existing, keyID)
			if !ok || seen[keyID] {
				return nil, bad
			}
			seen[keyID] = true
			out = append(out, kc)
			continue
		}
		if (s.Type != "" && s.Type != "AsymmetricX509Cert") || (s.Usage != "" && s.Usage != "Verify") {
			return nil, bad
		}
		cert, err := x509.ParseCertificate(s.Key)
		if err != nil {
			return nil, invalid("Invalid certificate: Key value is invalid certificate")
		}
		if keyID == "" {
			keyID = d.newID()
		}
		if seen[keyID] {
			return nil, bad
		}
		seen[keyID] = true
		start, end := s.Start, s.End
		if start.IsZero() {
			start = cert.NotBefore
		}
		if end.IsZero() {
			end = cert.NotAfter
		}
		if !end.After(start) {
			return nil, bad
		}
		thumb := sha1.Sum(cert.Raw)
		out = append(out, KeyCredential{
			KeyID: keyID, DisplayName: s.DisplayName, Type: "AsymmetricX509Cert", Usage: "Verify",
			CustomKeyIdentifier: strings.ToUpper(hex.EncodeToString(thumb[:])),
			StartDateTime:       d.inAksidFrame(start, clientNow), EndDateTime: d.inAksidFrame(end, clientNow), CertDER: cert.Raw,
		})
	}
	return out, nil
}

func findKey(list []KeyCredential, keyID string) (KeyCredential, bool) {
	for _, kc := range list {
		if strings.EqualFold(kc.KeyID, keyID) {
			return kc, true
		}
	}
	return KeyCredential{}, false
}

// mergeExtra returns dst with patch applied; a JSON null deletes.
func mergeExtra(dst, patch Extra) Extra {
	if len(patch) == 0 {
		return dst
	}
	out := Extra{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range patch {
		if string(v) == "null" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
