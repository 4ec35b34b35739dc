package msi

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/resources"
)

// FederatedType is the ARM type of an identity's federated credentials.
const FederatedType = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"

// Federated is a federated identity credential as ARM shows it.
type Federated struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Type       string              `json:"type"`
	Properties FederatedProperties `json:"properties"`
}

// FederatedProperties are what a client sets.
type FederatedProperties struct {
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// The service's rule for credential names.
var validFederatedName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)

func federated(ident Identity, fc directory.FederatedCredential) Federated {
	aud := fc.Audiences
	if aud == nil {
		aud = []string{}
	}
	return Federated{ID: ident.ID + "/federatedIdentityCredentials/" + fc.Name, Name: fc.Name, Type: FederatedType,
		Properties: FederatedProperties{Issuer: fc.Issuer, Subject: fc.Subject, Audiences: aud}}
}

// parent finds the identity a credential belongs to, with ARM's answer
// for a missing parent.
func (s *Service) parent(ctx context.Context, identityID string) (Identity, error) {
	ident, err := s.Get(ctx, identityID)
	if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
		name := identityID[strings.LastIndexByte(identityID, '/')+1:]
		return Identity{}, azerr.New(azerr.NotFound, "ParentResourceNotFound",
			"Can not perform requested operation on nested resource. Parent resource '%s' not found.", name)
	}
	return ident, err
}

func federatedNotFound(identityID, name string) error {
	// Named as a child is: its parent's type and name, then its own type.
	parent := identityID[strings.LastIndexByte(identityID, '/')+1:]
	return azerr.ResourceNotFound(ResourceType+"/"+parent+"/federatedIdentityCredentials", identityID+"/federatedIdentityCredentials/"+name)
}

// directoryRefusal words the directory's validation as ARM's BadRequest.
func directoryRefusal(err error) error {
	if msg, ok := directory.Reason(err); ok && errors.Is(err, directory.ErrInvalidArgument) {
		return azerr.New(azerr.Invalid, "BadRequest", "%s", msg)
	}
	return err
}

// PutFederated creates or replaces the credential name on the identity.
func (s *Service) PutFederated(ctx context.Context, identityID, name string, p FederatedProperties) (resources.Upsert[Federated], error) {
	ident, err := s.parent(ctx, identityID)
	if err != nil {
		return resources.Upsert[Federated]{}, err
	}
	if !validFederatedName.MatchString(name) {
		return resources.Upsert[Federated]{}, azerr.New(azerr.Invalid, "InvalidResourceName",
			"Resource name '%s' is invalid. The name must be 3 to 120 characters long, start with a letter or number, and contain only letters, numbers, hyphens and underscores.", name)
	}
	fc := directory.FederatedCredential{Name: name, Issuer: p.Issuer, Subject: p.Subject, Audiences: p.Audiences}
	if fc.Audiences == nil {
		fc.Audiences = []string{}
	}
	created, err := s.dir.UpsertFederatedCredential(ctx, ident.Properties.ClientID, fc)
	if err != nil {
		return resources.Upsert[Federated]{}, directoryRefusal(err)
	}
	got, err := s.GetFederated(ctx, identityID, name)
	return resources.Upsert[Federated]{Value: got, Created: created}, err
}

// GetFederated reads one credential.
func (s *Service) GetFederated(ctx context.Context, identityID, name string) (Federated, error) {
	list, err := s.ListFederated(ctx, identityID)
	if err != nil {
		return Federated{}, err
	}
	for _, f := range list {
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
	}
	return Federated{}, federatedNotFound(identityID, name)
}

// ListFederated returns the identity's credentials.
func (s *Service) ListFederated(ctx context.Context, identityID string) ([]Federated, error) {
	ident, err := s.parent(ctx, identityID)
	if err != nil {
		return nil, err
	}
	fics, err := s.dir.FederatedCredentials(ctx, ident.Properties.ClientID)
	if err != nil {
		return nil, err
	}
	out := []Federated{}
	for _, fc := range fics {
		out = append(out, federated(ident, fc))
	}
	return out, nil
}

// DeleteFederated removes a credential.
func (s *Service) DeleteFederated(ctx context.Context, identityID, name string) error {
	ident, err := s.parent(ctx, identityID)
	if err != nil {
		return err
	}
	err = s.dir.DeleteFederatedCredential(ctx, ident.Properties.ClientID, name)
	if errors.Is(err, directory.ErrObjectNotFound) {
		return federatedNotFound(identityID, name)
	}
	return err
}
