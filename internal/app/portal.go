package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/cloudprovider"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/portal"
	"github.com/aksid/aksid/internal/store"
)

// PortalAppID is the portal's application. It is registered as Microsoft's
// own applications are (first party, in the Microsoft services tenant,
// with a service principal in the bootstrap tenant), because the portal is
// aksid's, not the tenant's: it does not appear among the tenant's own app
// registrations, and deleting those cannot lock the portal out. It is a
// public client with one registered redirect URI, the portal's callback on
// aksid's URL. The Azure CLI's application does not fit: as a public client
// without registered URIs it may only be sent to http:// loopback
// addresses (Entra's rule, internal/sts redirectAllowed), and the portal's
// callback is on aksid's https:// URL.
const PortalAppID = "a1d5e1a0-7071-4a1e-9c3d-70a7a15e0001"

// maxPortalRedirects bounds the portal's remembered redirect URIs: each
// URL aksid has served the portal on (replicas without --public-url,
// restarts on another port), the newest kept.
const maxPortalRedirects = 20

// ensurePortalApp registers the portal's application, or adds url's
// callback to its redirect URIs when aksid now serves elsewhere. Replicas
// starting together may both register it: the loser reads the winner's.
func ensurePortalApp(ctx context.Context, dir *directory.Directory, url string) error {
	want := portal.RedirectURI(url)
	app, err := dir.Application(ctx, PortalAppID)
	if errors.Is(err, directory.ErrApplicationNotFound) {
		redirect, _ := json.Marshal(map[string][]string{"redirectUris": {want}})
		var reg directory.Registration
		reg, err = dir.CreateApplication(ctx, directory.MicrosoftServicesTenantID, directory.ApplicationSpec{AppID: PortalAppID,
			DisplayName: "aksid portal", FirstParty: true, PublicClient: true, Extra: directory.Extra{"publicClient": redirect}})
		app = reg.App
		if err != nil {
			// Another replica registered it meanwhile: go on with theirs.
			if again, rerr := dir.Application(ctx, PortalAppID); rerr == nil {
				app, err = again, nil
			}
		}
	}
	if err != nil {
		return err
	}
	var pc struct {
		RedirectURIs []string `json:"redirectUris"`
	}
	_ = json.Unmarshal(app.Extra["publicClient"], &pc)
	if !slices.Contains(pc.RedirectURIs, want) {
		uris := append(pc.RedirectURIs, want)
		uris = uris[max(0, len(uris)-maxPortalRedirects):]
		redirect, _ := json.Marshal(map[string][]string{"redirectUris": uris})
		if _, err := dir.UpdateApplication(ctx, directory.MicrosoftServicesTenantID, app.ObjectID,
			directory.ApplicationPatch{Extra: directory.Extra{"publicClient": redirect}}); err != nil {
			return err
		}
	}
	_, err = dir.EnsureServicePrincipal(ctx, bootstrap.TenantID, PortalAppID)
	return err
}

// portalClock lets the portal read and move aksid's clock as the CLI does.
type portalClock struct{ o *Ops }

func (c portalClock) Now() time.Time { return c.o.clk.Now() }

func (c portalClock) Advance(ctx context.Context, d time.Duration) error {
	_, err := c.o.AdvanceClock(ctx, d)
	return err
}

// portalBackend gives the portal the hosts and cluster checks, which no
// Azure API offers.
type portalBackend struct{ o *Ops }

func (b portalBackend) Hosts(ctx context.Context) ([]portal.Host, error) {
	views, err := b.o.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]portal.Host, 0, len(views))
	for _, v := range views {
		h := portal.Host{Name: v.Name, Kind: v.Kind, ResourceID: v.ResourceID}
		if v.SystemAssigned != nil {
			h.SystemAssigned = &portal.HostIdentity{ClientID: v.SystemAssigned.ClientID, PrincipalID: v.SystemAssigned.PrincipalID, ResourceID: v.SystemAssigned.ResourceID}
		}
		for _, u := range v.UserAssigned {
			h.UserAssigned = append(h.UserAssigned, portal.HostIdentity{ClientID: u.ClientID, PrincipalID: u.PrincipalID, ResourceID: u.ResourceID})
		}
		out = append(out, h)
	}
	return out, nil
}

func (b portalBackend) LastClusterCheck(ctx context.Context, clusterID string) (aks.CheckRun, bool, error) {
	return b.o.LastClusterCheck(ctx, clusterID)
}

func (b portalBackend) CheckCluster(ctx context.Context, clusterID string) (aks.CheckRun, error) {
	if _, err := b.o.CheckCluster(ctx, cloudprovider.Request{ClusterID: clusterID}); err != nil {
		return aks.CheckRun{}, err
	}
	run, _, err := b.o.LastClusterCheck(ctx, clusterID)
	return run, err
}

// kindPortalSession holds the portal's sessions: sha256 of the cookie →
// portalSession. The sealed record opens only with the cookie's value.
const kindPortalSession = "portal_session"

type portalSession struct {
	Ends   time.Time `json:"ends"` // on the wall clock
	Sealed []byte    `json:"sealed"`
}

// portalSessions keeps the portal's sessions in aksid's store, where
// every replica reads them and a restart keeps them.
type portalSessions struct{ st store.Store }

func (p portalSessions) Get(ctx context.Context, key string) ([]byte, error) {
	var s portalSession
	err := p.st.View(ctx, func(ctx context.Context, tx store.Tx) error { return store.GetJSON(tx, kindPortalSession, key, &s) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, portal.ErrNoSession
	}
	return s.Sealed, err
}

func (p portalSessions) Put(ctx context.Context, key string, ends time.Time, sealed []byte) error {
	return p.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.PutJSON(tx, kindPortalSession, key, portalSession{Ends: ends, Sealed: sealed})
	})
}

func (p portalSessions) Delete(ctx context.Context, key string) error {
	err := p.st.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Delete(kindPortalSession, key) })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func (p portalSessions) Sweep(ctx context.Context, now time.Time) (int, error) {
	live := 0
	err := p.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		live = 0
		all, err := store.ListEntries[portalSession](tx, kindPortalSession, "")
		if err != nil {
			return err
		}
		for _, e := range all {
			if now.Before(e.Value.Ends) {
				live++
				continue
			}
			if err := tx.Delete(kindPortalSession, e.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	return live, err
}

// registerPortal serves the portal at aksid's root. Its server-side calls
// (the token endpoint, Graph) go through inProcess to Azure's hosts, as a
// client's would through the proxy: the portal imports no other face.
func registerPortal(ctx context.Context, mux *http.ServeMux, st store.Store, dir *directory.Directory, ops *Ops, url string, inProcess *http.Client, log *slog.Logger) error {
	if err := ensurePortalApp(ctx, dir, url); err != nil {
		return err
	}
	portal.New(portal.Options{URL: url, TenantID: bootstrap.TenantID, ClientID: PortalAppID,
		LoginBase: "https://login.microsoftonline.com", GraphBase: "https://graph.microsoft.com", ARMBase: cloudprovider.DefaultEndpoint,
		HTTP: inProcess, Clock: portalClock{ops}, Backend: portalBackend{ops}, Sessions: portalSessions{st}, Log: log}).Register(mux)
	return nil
}
