package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

// Directory reads and changes directory objects in a store.
type Directory struct {
	st    store.Store
	clk   clock.Clock
	rand  io.Reader
	cache readCache
	// shared: other processes (replicas) write the same store, so the
	// token path checks the directory's generation before trusting its
	// cache (see FollowOtherWriters).
	shared bool
	// othersWrote, when set, runs after the cache was forgotten for
	// another process's write (see FollowOtherWriters).
	othersWrote func(context.Context) error
}

// New returns a directory over st whose dates come from clk (aksid's
// clock) and whose secrets and IDs come from random.
func New(st store.Store, clk clock.Clock, random io.Reader) *Directory {
	return &Directory{st: st, clk: clk, rand: random}
}

// update runs a write and forgets cached reads it may have changed.
func (d *Directory) update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	defer d.ForgetCached()
	return d.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		// A new generation in the same transaction tells replicas that
		// their cached reads are stale.
		return tx.Put(kindDirMeta, generationKey, []byte(d.newID()))
	})
}

// FollowOtherWriters makes the cached client reads check, on every
// lookup, whether another process changed the directory: one read of its
// generation, so a secret reset on one replica holds on every other at
// the next request. Without it, other processes' writes are seen when
// ForgetCached runs (the server's refresh tick). othersWrote, when not
// nil, runs when another process's write was seen, before the lookup
// goes on: the server re-reads there what else it keeps from the store
// that such a write may have changed (aksid's clock).
func (d *Directory) FollowOtherWriters(othersWrote func(context.Context) error) {
	d.shared, d.othersWrote = true, othersWrote
}

// Touch marks, in tx, a change that processes following other writers
// must see at their next lookup, made outside the directory (a move of
// aksid's clock, which decides whether secrets have expired).
func Touch(tx store.Tx) error {
	return tx.Put(kindDirMeta, generationKey, []byte(uuid.NewString()))
}

func (d *Directory) newID() string {
	id, err := uuid.NewRandomFromReader(d.rand)
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("directory: random source failed: %v", err))
	}
	return id.String()
}

// EnsureTenant creates t if no tenant with its ID exists.
func (d *Directory) EnsureTenant(ctx context.Context, t Tenant) error {
	if _, err := d.Tenant(ctx, t.ID); err == nil {
		return nil // the common case at start: no write transaction
	}
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(kindTenant, t.ID); err == nil {
			return nil
		}
		if t.Created.IsZero() {
			t.Created = d.clk.Now().UTC()
		}
		if err := store.CreateJSON(tx, kindTenant, t.ID, t); err != nil {
			return err
		}
		for _, dom := range t.Domains {
			if err := tx.Put(kindTenantDomain, strings.ToLower(dom), []byte(t.ID)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Tenant finds a tenant by GUID or by one of its domains.
func (d *Directory) Tenant(ctx context.Context, idOrDomain string) (Tenant, error) {
	var t Tenant
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		id := strings.ToLower(idOrDomain)
		if _, perr := uuid.Parse(id); perr != nil {
			b, err := tx.Get(kindTenantDomain, id)
			if err != nil {
				return err
			}
			id = string(b)
		}
		return store.GetJSON(tx, kindTenant, id, &t)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Tenant{}, ErrTenantNotFound
	}
	return t, err
}

// ApplicationSpec describes an application to register.
type ApplicationSpec struct {
	AppID                      string // empty: a new GUID
	DisplayName                string
	IdentifierURIs             []string
	AccessTokenAcceptedVersion int
	PublicClient               bool
	FirstParty                 bool
	SupportsCAE                bool
	KeyCredentials             []KeyCredentialSpec
	Extra                      Extra
	// ClientNow is the caller's clock when it computed the key
	// credentials' dates; zero means they are in aksid's frame already.
	ClientNow time.Time
	// Creator is the object ID of the user or service principal that
	// registers it through Graph: Entra makes the creator its first owner.
	Creator string
}

// CreateApplication registers an application in tenantID together with its
// service principal there, as `az ad sp create-for-rbac` does.
func (d *Directory) CreateApplication(ctx context.Context, tenantID string, spec ApplicationSpec) (Registration, error) {
	var sp ServicePrincipal
	app, err := d.registerApplication(ctx, tenantID, spec, func(tx store.Tx, app Application) error {
		var err error
		sp, err = d.addServicePrincipal(tx, tenantID, app, app.Created)
		return err
	})
	return Registration{App: app, SP: sp}, err
}

// Registration is an application and its service principal in the
// tenant that registered it.
type Registration struct {
	App Application
	SP  ServicePrincipal
}

// RegisterApplication registers an application without a service
// principal, as Graph's POST /applications does.
func (d *Directory) RegisterApplication(ctx context.Context, tenantID string, spec ApplicationSpec) (Application, error) {
	return d.registerApplication(ctx, tenantID, spec, nil)
}

func (d *Directory) registerApplication(ctx context.Context, tenantID string, spec ApplicationSpec, then func(store.Tx, Application) error) (Application, error) {
	if strings.TrimSpace(spec.DisplayName) == "" {
		return Application{}, invalid("Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	now := d.clk.Now().UTC()
	app := Application{
		ObjectID: d.newID(), AppID: strings.ToLower(spec.AppID), TenantID: tenantID, DisplayName: spec.DisplayName,
		IdentifierURIs: spec.IdentifierURIs, AccessTokenAcceptedVersion: spec.AccessTokenAcceptedVersion,
		PublicClient: spec.PublicClient, FirstParty: spec.FirstParty, SupportsCAE: spec.SupportsCAE,
		PasswordCredentials: []PasswordCredential{}, KeyCredentials: []KeyCredential{}, Created: now, Extra: spec.Extra,
	}
	if app.AppID == "" {
		app.AppID = d.newID()
	}
	if app.IdentifierURIs == nil {
		app.IdentifierURIs = []string{}
	}
	if err := validateURIs(app.IdentifierURIs); err != nil {
		return Application{}, err
	}
	keys, err := d.mergeKeyCredentials(nil, spec.KeyCredentials, spec.ClientNow)
	if err != nil {
		return Application{}, err
	}
	app.KeyCredentials = keys
	err = d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(kindTenant, tenantID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrTenantNotFound
			}
			return err
		}
		if err := insertApp(tx, app); err != nil {
			return err
		}
		if spec.Creator != "" {
			if err := addCreator(tx, tenantID, Object{Type: TypeApplication, Application: &app}, spec.Creator); err != nil {
				return err
			}
		}
		if then != nil {
			return then(tx, app)
		}
		return nil
	})
	return app, err
}

// insertApp writes a new application and its appId, object and URI indexes.
func insertApp(tx store.Tx, app Application) error {
	if err := store.CreateJSON(tx, kindApp, app.AppID, app); err != nil {
		if errors.Is(err, store.ErrExists) {
			return conflict("Another object with the same value for property appId already exists.")
		}
		return err
	}
	if err := tx.Put(kindAppObject, app.ObjectID, []byte(app.AppID)); err != nil {
		return err
	}
	return claimURIs(tx, app.AppID, app.IdentifierURIs)
}

// EnsureServicePrincipal gives application appID a service principal in
// tenantID if it has none (first-party apps have one in every tenant).
func (d *Directory) EnsureServicePrincipal(ctx context.Context, tenantID, appID string) (ServicePrincipal, error) {
	if sp, err := d.ServicePrincipal(ctx, tenantID, appID); err == nil {
		return sp, nil
	}
	var sp ServicePrincipal
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := store.GetJSON(tx, kindSP, tenantID+"/"+appID, &sp); err == nil {
			return nil
		}
		var app Application
		if err := store.GetJSON(tx, kindApp, appID, &app); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrApplicationNotFound
			}
			return err
		}
		var err error
		sp, err = d.addServicePrincipal(tx, tenantID, app, d.clk.Now().UTC())
		return err
	})
	return sp, err
}

func (d *Directory) addServicePrincipal(tx store.Tx, tenantID string, app Application, now time.Time) (ServicePrincipal, error) {
	sp := ServicePrincipal{
		ObjectID: d.newID(), AppID: app.AppID, TenantID: tenantID, AppOwnerTenantID: app.TenantID,
		DisplayName: app.DisplayName, ServicePrincipalNames: append([]string{app.AppID}, app.IdentifierURIs...),
		ServicePrincipalType: "Application", AccountEnabled: true, Created: now,
	}
	if err := store.CreateJSON(tx, kindSP, tenantID+"/"+app.AppID, sp); err != nil {
		return ServicePrincipal{}, err
	}
	return sp, tx.Put(kindSPObject, tenantID+"/"+sp.ObjectID, []byte(app.AppID))
}

// Application finds an application by its appId.
func (d *Directory) Application(ctx context.Context, appID string) (Application, error) {
	var app Application
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindApp, strings.ToLower(appID), &app)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Application{}, ErrApplicationNotFound
	}
	return app, err
}

// ServicePrincipal finds application appID's service principal in tenantID.
func (d *Directory) ServicePrincipal(ctx context.Context, tenantID, appID string) (ServicePrincipal, error) {
	var sp ServicePrincipal
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindSP, tenantID+"/"+strings.ToLower(appID), &sp)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ServicePrincipal{}, ErrPrincipalNotFound
	}
	return sp, err
}

// Client is what the token service needs about a calling application: the
// registration and its principal in the tenant it signs in to.
type Client struct {
	App Application
	SP  ServicePrincipal
}

// Resource is an application that tokens are issued for.
type Resource struct {
	App Application
	SP  ServicePrincipal
}

// ClientAndResource reads, in one snapshot, the calling application and the
// resource named by an appId or identifier URI, each with its principal in
// tenantID. Either error is reported through the returned lookup's fields.
func (d *Directory) ClientAndResource(ctx context.Context, tenantID, clientID, resource string) (Lookup, error) {
	var l Lookup
	if d.shared {
		if err := d.syncGeneration(ctx); err != nil {
			return l, err
		}
	}
	gen := d.cache.generation()
	clientID = strings.ToLower(clientID)
	var clientCached, resourceCached bool
	if resource != "" {
		l.Resource, resourceCached = d.cache.resource(tenantID, resource)
	}
	// The cached client is shared: callers read it and never change it.
	l.Client, clientCached = d.cache.client(tenantID, clientID)
	if clientCached && (resource == "" || resourceCached) {
		return l, nil
	}
	err := d.readClientAndResource(ctx, gen, tenantID, clientID, resource, !clientCached, !resourceCached, &l)
	return l, err
}

// readClientAndResource is ClientAndResource's store read, apart so that
// answers from memory do not pay for its closure.
func (d *Directory) readClientAndResource(ctx context.Context, gen uint64, tenantID, clientID, resource string, readClient, readResource bool, l *Lookup) error {
	return d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		if readClient {
			l.Client = Client{}
			l.ClientErr = readPair(tx, tenantID, clientID, &l.Client.App, &l.Client.SP)
			if l.ClientErr == nil {
				// Entra signs a client in with its principal's credentials
				// (servicePrincipal addPassword) as well as its application's.
				l.Client.App.PasswordCredentials = append(l.Client.App.PasswordCredentials, l.Client.SP.PasswordCredentials...)
				l.Client.App.KeyCredentials = append(l.Client.App.KeyCredentials, l.Client.SP.KeyCredentials...)
				d.cache.putClient(gen, tenantID, clientID, l.Client)
			}
		}
		if resource == "" || !readResource {
			return nil
		}
		appID, err := resolveResource(tx, resource)
		if err != nil {
			l.ResourceErr = err
			return nil
		}
		l.ResourceErr = readPair(tx, tenantID, appID, &l.Resource.App, &l.Resource.SP)
		if l.ResourceErr == nil {
			// Resources are cached without their credentials: the token
			// path never needs them, and they change with every reset.
			r := l.Resource
			r.App.PasswordCredentials, r.App.KeyCredentials = nil, nil
			d.cache.putResource(gen, tenantID, resource, r)
		}
		return nil
	})
}

// Lookup is the result of ClientAndResource.
type Lookup struct {
	Client      Client
	ClientErr   error
	Resource    Resource
	ResourceErr error
}

func readPair(tx store.Tx, tenantID, appID string, app *Application, sp *ServicePrincipal) error {
	if err := store.GetJSON(tx, kindApp, appID, app); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrApplicationNotFound
		}
		return err
	}
	if err := store.GetJSON(tx, kindSP, tenantID+"/"+appID, sp); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrPrincipalNotFound
		}
		return err
	}
	return nil
}

func resolveResource(tx store.Tx, resource string) (string, error) {
	if id, err := uuid.Parse(resource); err == nil && len(resource) == 36 {
		return id.String(), nil
	}
	b, err := tx.Get(kindAppURI, NormalizeURI(resource))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrApplicationNotFound
	}
	return string(b), err
}

// NormalizeURI makes identifier URIs comparable: Entra matches them
// case-insensitively and with or without a trailing slash (az asks for
// "https://management.core.windows.net/", SDKs for "…azure.com").
func NormalizeURI(u string) string {
	return strings.TrimRight(strings.ToLower(strings.TrimSpace(u)), "/")
}
