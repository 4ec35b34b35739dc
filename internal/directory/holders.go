package directory

import (
	"context"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// holder is an object that owns credentials: an application or a
// service principal, read inside a transaction and written back.
type holder struct {
	passwords *[]PasswordCredential
	keys      *[]KeyCredential
	save      func() error
}

// holderOf reads objectType's objectID in tenantID as a credential holder.
func holderOf(tx store.Tx, tenantID, objectType, objectID string) (holder, error) {
	switch objectType {
	case TypeApplication:
		app, err := appByObject(tx, tenantID, objectID)
		if err != nil {
			return holder{}, err
		}
		return holder{&app.PasswordCredentials, &app.KeyCredentials,
			func() error { return store.PutJSON(tx, kindApp, app.AppID, app) }}, nil
	case TypeServicePrincipal:
		sp, err := spByObject(tx, tenantID, objectID)
		if err != nil {
			return holder{}, err
		}
		return holder{&sp.PasswordCredentials, &sp.KeyCredentials,
			func() error { return store.PutJSON(tx, kindSP, sp.TenantID+"/"+sp.AppID, sp) }}, nil
	}
	return holder{}, ErrObjectNotFound
}

// AddedPassword is a new client secret and its credential; the secret
// is shown to the caller this once and kept only as a hash.
type AddedPassword struct {
	Credential PasswordCredential
	Secret     string
}

// AddPasswordTo adds a generated client secret to an application or a
// service principal (objectType TypeApplication or TypeServicePrincipal).
func (d *Directory) AddPasswordTo(ctx context.Context, tenantID, objectType, objectID string, spec PasswordSpec) (AddedPassword, error) {
	secret, err := d.NewSecret()
	if err != nil {
		return AddedPassword{}, err
	}
	cred, err := d.newPassword(spec, secret)
	if err != nil {
		return AddedPassword{}, err
	}
	err = d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		h, err := holderOf(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		*h.passwords = append(*h.passwords, cred)
		return h.save()
	})
	if err != nil {
		return AddedPassword{}, err
	}
	return AddedPassword{Credential: cred, Secret: secret}, nil
}

// RemovePassword deletes the client secret keyID of an application or a
// service principal.
func (d *Directory) RemovePassword(ctx context.Context, tenantID, objectType, objectID, keyID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		h, err := holderOf(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		kept := (*h.passwords)[:0:0]
		for _, c := range *h.passwords {
			if !strings.EqualFold(c.KeyID, keyID) {
				kept = append(kept, c)
			}
		}
		if len(kept) == len(*h.passwords) {
			return invalid("No password credential found with keyId '%s'.", keyID)
		}
		*h.passwords = kept
		return h.save()
	})
}

// RemoveCertificate deletes the certificate credential keyID of an
// application or a service principal.
func (d *Directory) RemoveCertificate(ctx context.Context, tenantID, objectType, objectID, keyID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		h, err := holderOf(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		kept := (*h.keys)[:0:0]
		for _, c := range *h.keys {
			if !strings.EqualFold(c.KeyID, keyID) {
				kept = append(kept, c)
			}
		}
		if len(kept) == len(*h.keys) {
			return invalid("No key credential found with keyId '%s'.", keyID)
		}
		*h.keys = kept
		return h.save()
	})
}

// AddCertificateTo registers a DER certificate on an application or a
// service principal; dates are moved from the caller's frame (clientNow).
// Graph's addKey checks a proof first (CheckKeyProof).
func (d *Directory) AddCertificateTo(ctx context.Context, tenantID, objectType, objectID string, spec KeyCredentialSpec, clientNow time.Time) (KeyCredential, error) {
	if spec.Key == nil {
		return KeyCredential{}, invalid("Invalid value specified for property 'keyCredential' of resource 'KeyCredential'.")
	}
	var added KeyCredential
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		h, err := holderOf(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		specs := make([]KeyCredentialSpec, 0, len(*h.keys)+1)
		for _, kc := range *h.keys {
			specs = append(specs, KeyCredentialSpec{KeyID: kc.KeyID})
		}
		merged, err := d.mergeKeyCredentials(*h.keys, append(specs, spec), clientNow)
		if err != nil {
			return err
		}
		added = merged[len(merged)-1]
		*h.keys = merged
		return h.save()
	})
	return added, err
}
