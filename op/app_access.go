package op

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/orgid/orgid/storage"
)

// accessKey names what an application is in one organization.
type accessKey struct{ tenant, org, client string }

// accessCache keeps storage.ApplicationAccess results for a short time, so
// that a client credentials request for an organization token reads the
// store at most once, and in steady state not at all.
//
// Freshness comes from the time to live alone (Config.ClientCacheTTL, 1 s
// by default), not from invalidation messages: a link removed or changed
// on any replica is seen by every replica within that time, with no
// pub/sub channel to run, lose or reconnect. A second of staleness is what
// a token issued a second earlier already carries. Errors, ErrNotFound
// included, are not cached, so a new link works at once.
//
// Unlike ttlcache.Cache it can drop every entry of one client, so that a
// deleted application is refused at once by the replica that deleted it.
type accessCache struct {
	ttl  time.Duration
	now  func() time.Time
	load func(context.Context, accessKey) (storage.ApplicationAccess, error)
	mu   sync.RWMutex
	m    map[accessKey]accessEntry
}

type accessEntry struct {
	v        storage.ApplicationAccess
	loadedAt time.Time
}

func newAccessCache(ttl time.Duration, now func() time.Time, store storage.Store) *accessCache {
	return &accessCache{ttl: ttl, now: now, m: map[accessKey]accessEntry{},
		load: func(ctx context.Context, k accessKey) (storage.ApplicationAccess, error) {
			return store.GetApplicationAccess(ctx, k.tenant, k.org, k.client)
		}}
}

// get returns the access for k, loading it when absent or stale. Stale
// entries are replaced when their key is asked for again, and dropped by
// sweep, so the map holds at most the links used within a few TTLs.
func (c *accessCache) get(ctx context.Context, k accessKey) (storage.ApplicationAccess, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if ok && now.Sub(e.loadedAt) < c.ttl {
		return e.v, nil
	}
	v, err := c.load(ctx, k)
	if err != nil {
		if ok {
			c.forgetKey(k)
		}
		return storage.ApplicationAccess{}, err
	}
	c.mu.Lock()
	c.m[k] = accessEntry{v: v, loadedAt: now}
	if len(c.m) > sweepAt {
		for key, e := range c.m {
			if now.Sub(e.loadedAt) >= c.ttl {
				delete(c.m, key)
			}
		}
	}
	c.mu.Unlock()
	return v, nil
}

// sweepAt is the size beyond which an insert drops stale entries.
const sweepAt = 4096

func (c *accessCache) forgetKey(k accessKey) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// forgetClient drops every organization's entry for one client.
func (c *accessCache) forgetClient(tenant, client string) {
	c.mu.Lock()
	for k := range c.m {
		if k.tenant == tenant && k.client == client {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// appAccess is "what is this application in this organization" for an
// organization token. Not linked, no such organization and no such
// application are one refusal (DESIGN §3).
func (p *Provider) appAccess(ctx context.Context, tenant, orgID, clientID string) (storage.ApplicationAccess, error) {
	if orgID == "" {
		return storage.ApplicationAccess{}, errOrgDenied()
	}
	a, err := p.access.get(ctx, accessKey{tenant, orgID, clientID})
	if errors.Is(err, storage.ErrNotFound) {
		return storage.ApplicationAccess{}, errOrgDenied()
	}
	return a, err
}

// ForgetApplicationAccess drops what this replica cached about clientID
// in orgID, so that an unlink or a role change made through this replica
// holds here at once; other replicas see it within ClientCacheTTL.
func (p *Provider) ForgetApplicationAccess(tenantID, orgID, clientID string) {
	p.access.forgetKey(accessKey{tenantID, orgID, clientID})
}
