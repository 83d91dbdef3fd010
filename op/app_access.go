package op

import (
	"context"
	"errors"
	"time"

	"github.com/orgid/orgid/internal/ttlcache"
	"github.com/orgid/orgid/storage"
)

// accessKey names what an application is in one organization.
type accessKey struct{ tenant, org, client string }

// newAccessCache caches storage.ApplicationAccess results for a short
// time, so that a client credentials request for an organization token
// reads the store at most once, and in steady state not at all.
//
// Freshness comes from the time to live alone (Config.ClientCacheTTL, 1 s
// by default), not from invalidation messages: a link removed or changed
// on any replica is seen by every replica within that time, with no
// pub/sub channel to run, lose or reconnect. A second of staleness is what
// a token issued a second earlier already carries. Errors, ErrNotFound
// included, are not cached, so a new link works at once. ForgetClient
// drops every entry of one client, so that a deleted application is
// refused at once by the replica that deleted it.
func newAccessCache(ttl time.Duration, now func() time.Time, store storage.Store) *ttlcache.Cache[accessKey, storage.ApplicationAccess] {
	return ttlcache.New(ttl, now, func(ctx context.Context, k accessKey) (storage.ApplicationAccess, error) {
		return store.GetApplicationAccess(ctx, k.tenant, k.org, k.client)
	})
}

// appAccess is "what is this application in this organization" for an
// organization token. Not linked, no such organization and no such
// application are one refusal (DESIGN §3).
func (p *Provider) appAccess(ctx context.Context, tenant, orgID, clientID string) (storage.ApplicationAccess, error) {
	if orgID == "" {
		return storage.ApplicationAccess{}, errOrgDenied()
	}
	a, err := p.access.Get(ctx, accessKey{tenant, orgID, clientID})
	if errors.Is(err, storage.ErrNotFound) {
		return storage.ApplicationAccess{}, errOrgDenied()
	}
	return a, err
}

// ForgetApplicationAccess drops what this replica cached about clientID
// in orgID, so that an unlink or a role change made through this replica
// holds here at once; other replicas see it within ClientCacheTTL.
func (p *Provider) ForgetApplicationAccess(tenantID, orgID, clientID string) {
	p.access.Forget(accessKey{tenantID, orgID, clientID})
}
