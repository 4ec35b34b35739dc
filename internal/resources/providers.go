package resources

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindProviderReg = "provider_registration" // lower(sub)/lower(ns) → state
	kindFeatureReg  = "feature_registration"  // lower(sub)/lower(ns)/lower(name) → featureDoc
)

// ProviderView is a provider as `az provider show` prints it.
type ProviderView struct {
	ID                 string         `json:"id"`
	Namespace          string         `json:"namespace"`
	RegistrationState  string         `json:"registrationState"`
	RegistrationPolicy string         `json:"registrationPolicy"`
	ResourceTypes      []ResourceType `json:"resourceTypes"`
}

func errNamespace(ns string) error {
	return azerr.New(azerr.NotFound, "InvalidResourceNamespace", "The resource namespace '%s' is invalid.", ns)
}

func (s *Service) view(tx store.Tx, sub string, p ProviderInfo) ProviderView {
	state := "NotRegistered"
	if p.Free {
		state = "Registered"
	} else if b, err := tx.Get(kindProviderReg, strings.ToLower(sub+"/"+p.Namespace)); err == nil {
		state = string(b)
	}
	policy := "RegistrationRequired"
	if p.Free {
		policy = "RegistrationFree"
	}
	types := p.Types
	if types == nil {
		types = []ResourceType{}
	}
	return ProviderView{ID: "/subscriptions/" + sub + "/providers/" + p.Namespace, Namespace: p.Namespace,
		RegistrationState: state, RegistrationPolicy: policy, ResourceTypes: types}
}

// GetProvider shows one namespace's registration in a subscription.
func (s *Service) GetProvider(ctx context.Context, sub, ns string) (ProviderView, error) {
	p, ok := Provider(ns)
	if !ok {
		return ProviderView{}, errNamespace(ns)
	}
	var v ProviderView
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error { v = s.view(tx, sub, p); return nil })
	return v, err
}

// ListProviders shows every namespace.
func (s *Service) ListProviders(ctx context.Context, sub string) ([]ProviderView, error) {
	var out []ProviderView
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, p := range Providers() {
			out = append(out, s.view(tx, sub, p))
		}
		return nil
	})
	return out, err
}

// Change says whether a registration is made or undone.
type Change string

// Registration changes.
const (
	Register   Change = "register"
	Unregister Change = "unregister"
)

// RegisterProvider registers (or unregisters) a namespace.
func (s *Service) RegisterProvider(ctx context.Context, sub, ns string, change Change) (ProviderView, error) {
	register := change == Register
	p, ok := Provider(ns)
	if !ok {
		return ProviderView{}, errNamespace(ns)
	}
	var v ProviderView
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if !p.Free {
			state := "Registered"
			if !register {
				state = "Unregistered"
			}
			if err := tx.Put(kindProviderReg, strings.ToLower(sub+"/"+p.Namespace), []byte(state)); err != nil {
				return err
			}
		}
		v = s.view(tx, sub, p)
		return nil
	})
	return v, err
}

// ProviderRegistered tells whether ns is registered in sub (resource
// providers refuse to create resources otherwise, as Azure does).
func (s *Service) ProviderRegistered(ctx context.Context, sub, ns string) (bool, error) {
	v, err := s.GetProvider(ctx, sub, ns)
	return err == nil && v.RegistrationState == "Registered", err
}

type featureDoc struct {
	State   string    `json:"state"`
	Changed time.Time `json:"changed"`
}

// FeatureView is a feature as `az feature show` prints it.
type FeatureView struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Properties struct {
		State string `json:"state"`
	} `json:"properties"`
}

func (s *Service) feature(sub, ns, name string, doc *featureDoc) FeatureView {
	v := FeatureView{ID: "/subscriptions/" + sub + "/providers/Microsoft.Features/providers/" + ns + "/features/" + name,
		Name: ns + "/" + name, Type: "Microsoft.Features/providers/features"}
	v.Properties.State = "NotRegistered"
	if doc != nil {
		v.Properties.State = doc.State
		// Registration completes after the delay on aksid's clock.
		if doc.State == "Registering" && !s.clk.Now().Before(doc.Changed.Add(s.featureDelay)) {
			v.Properties.State = "Registered"
		}
		if doc.State == "Unregistering" && !s.clk.Now().Before(doc.Changed.Add(s.featureDelay)) {
			v.Properties.State = "Unregistered"
		}
	}
	return v
}

func errFeature(ns, name string) error {
	return azerr.New(azerr.NotFound, "FeatureNotFound", "The feature '%s' could not be found.", ns+"/"+name)
}

// GetFeature shows one feature.
func (s *Service) GetFeature(ctx context.Context, sub, ns, name string) (FeatureView, error) {
	f, ok := featureName(ns, name)
	cns, cname := f.ns, f.name
	if !ok {
		return FeatureView{}, errFeature(ns, name)
	}
	var v FeatureView
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var doc featureDoc
		err := store.GetJSON(tx, kindFeatureReg, strings.ToLower(sub+"/"+cns+"/"+cname), &doc)
		if errors.Is(err, store.ErrNotFound) {
			v = s.feature(sub, cns, cname, nil)
			return nil
		}
		v = s.feature(sub, cns, cname, &doc)
		return err
	})
	return v, err
}

// ListFeatures lists the features of ns, or of every namespace when ns is empty.
func (s *Service) ListFeatures(ctx context.Context, sub, ns string) ([]FeatureView, error) {
	var namespaces []string
	if ns != "" {
		p, ok := Provider(ns)
		if !ok {
			return nil, errNamespace(ns)
		}
		namespaces = []string{p.Namespace}
	} else {
		for n := range knownFeatures {
			namespaces = append(namespaces, n)
		}
		sort.Strings(namespaces)
	}
	out := []FeatureView{}
	for _, n := range namespaces {
		for _, f := range knownFeatures[n] {
			v, err := s.GetFeature(ctx, sub, n, f)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// RegisterFeature starts (or undoes) a feature registration; it reads
// Registering until the delay has passed.
func (s *Service) RegisterFeature(ctx context.Context, sub, ns, name string, change Change) (FeatureView, error) {
	register := change == Register
	f, ok := featureName(ns, name)
	cns, cname := f.ns, f.name
	if !ok {
		return FeatureView{}, errFeature(ns, name)
	}
	state := "Registering"
	if !register {
		state = "Unregistering"
	}
	doc := featureDoc{State: state, Changed: s.clk.Now().UTC()}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var cur featureDoc
		key := strings.ToLower(sub + "/" + cns + "/" + cname)
		if err := store.GetJSON(tx, kindFeatureReg, key, &cur); err == nil {
			if v := s.feature(sub, cns, cname, &cur); (register && v.Properties.State == "Registered") || (!register && v.Properties.State == "Unregistered") {
				doc = cur // already there: registering again changes nothing
				return nil
			}
		}
		return store.PutJSON(tx, kindFeatureReg, key, doc)
	})
	return s.feature(sub, cns, cname, &doc), err
}
