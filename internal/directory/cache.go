package directory

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/aksid/aksid/internal/store"
)

// readCache keeps tenants, resource applications and clients (with their
// credentials' hashes) in memory so that the token path reads nothing
// from the store after a client's first request. Writes through
// this Directory clear it at once; writes by other processes (replicas,
// the CLI) are picked up when the server calls ForgetCached on its
// refresh tick, like Entra's own replication delay.
type readCache struct {
	mu        sync.RWMutex
	gen       uint64              // bumped by every forget; a read that raced one is not cached
	tenants   map[string]Tenant   // lower-case GUID or domain → tenant
	resources map[string]Resource // tenantID + "\x00" + normalized resource → resource
	clients   map[string]Client   // tenantID + "\x00" + lower-case client ID → client
	storeGen  string              // the store's directory generation the cache was filled under
}

const generationKey = "generation"

// syncGeneration forgets the cache when the store's directory generation
// moved since it was filled (another process wrote).
func (d *Directory) syncGeneration(ctx context.Context) error {
	var g []byte
	err := d.st.View(ctx, func(_ context.Context, tx store.Tx) error {
		var err error
		g, err = tx.Get(kindDirMeta, generationKey)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return err
	})
	if err != nil {
		return err
	}
	d.cache.mu.Lock()
	moved := d.cache.storeGen != string(g)
	if moved {
		d.cache.forgetLocked()
		d.cache.storeGen = string(g)
	}
	d.cache.mu.Unlock()
	if moved && d.othersWrote != nil {
		return d.othersWrote(ctx)
	}
	return nil
}

// forgetLocked drops every cached read; c.mu is held.
func (c *readCache) forgetLocked() {
	c.tenants, c.resources, c.clients = nil, nil, nil
	c.gen++
}

func (c *readCache) tenant(seg string) (Tenant, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tenants[strings.ToLower(seg)]
	return t, ok
}

func (c *readCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *readCache) putTenant(gen uint64, seg string, t Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.tenants == nil {
		c.tenants = map[string]Tenant{}
	}
	c.tenants[strings.ToLower(seg)] = t
}

func (c *readCache) resource(tenantID, res string) (Resource, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.resources[tenantID+"\x00"+NormalizeURI(res)]
	return r, ok
}

func (c *readCache) putResource(gen uint64, tenantID, res string, r Resource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.resources == nil {
		c.resources = map[string]Resource{}
	}
	c.resources[tenantID+"\x00"+NormalizeURI(res)] = r
}

func (c *readCache) client(tenantID, clientID string) (Client, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cl, ok := c.clients[tenantID+"\x00"+clientID]
	return cl, ok
}

func (c *readCache) putClient(gen uint64, tenantID, clientID string, cl Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.clients == nil {
		c.clients = map[string]Client{}
	}
	c.clients[tenantID+"\x00"+clientID] = cl
}

// ForgetCached drops cached tenants and resources so the next reads see
// changes other processes made.
func (d *Directory) ForgetCached() {
	d.cache.mu.Lock()
	d.cache.forgetLocked()
	d.cache.mu.Unlock()
}

// CachedTenant is Tenant served from memory after the first read.
func (d *Directory) CachedTenant(ctx context.Context, idOrDomain string) (Tenant, error) {
	if t, ok := d.cache.tenant(idOrDomain); ok {
		return t, nil
	}
	gen := d.cache.generation()
	t, err := d.Tenant(ctx, idOrDomain)
	if err == nil {
		d.cache.putTenant(gen, idOrDomain, t)
	}
	return t, err
}
