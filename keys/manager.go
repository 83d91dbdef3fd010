package keys

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

// Defaults for a Manager.
const (
	// DefaultCacheTTL is how long a replica trusts its snapshot of a
	// tenant's keys before it reads the store again.
	DefaultCacheTTL = 30 * time.Second
	// DefaultRetention is how long a retired key stays published.
	DefaultRetention = 2 * time.Hour
	// missReloadInterval bounds how often an unknown kid makes PublicKey
	// read the store, so that garbage kids cannot hammer it.
	missReloadInterval = time.Second
)

// Manager keeps the token-signing keys of every tenant: it creates them,
// rotates them and serves cached signers and public keys. It is safe for
// concurrent use, and any number of replicas may share one store.
//
// Rotation follows dex (server/signer/rotation.go) with one step more:
// each algorithm has an active key that signs, a next key that is already
// published in the JWKS but does not sign yet, and retired keys that are
// published until every token they signed has expired. Because a key is
// published a whole rotation period before it signs, a replica whose
// cached snapshot is up to the cache TTL old never signs with a key that
// a verifier could not have fetched.
type Manager struct {
	store     storage.Store
	sealer    *Sealer
	now       func() time.Time
	ttl       time.Duration
	retention time.Duration
	algs      []string

	tenants sync.Map // tenant ID → *tenantKeys
}

// Option configures a Manager.
type Option func(*Manager)

// WithClock sets the clock (time.Now by default); tests move it instead of sleeping.
func WithClock(now func() time.Time) Option { return func(m *Manager) { m.now = now } }

// WithCacheTTL sets how long a snapshot of a tenant's keys is trusted
// before the store is read again (DefaultCacheTTL). Other replicas see a
// rotation within this time.
func WithCacheTTL(d time.Duration) Option { return func(m *Manager) { m.ttl = d } }

// WithRetention sets how long a retired key stays published
// (DefaultRetention). Pass at least the longest token lifetime plus the
// cache TTL plus the clock skew verifiers allow: a replica may sign with
// a key for up to the cache TTL after another replica retired it.
func WithRetention(d time.Duration) Option { return func(m *Manager) { m.retention = d } }

// WithAlgorithms sets the algorithms that get keys (by default RS256,
// ES256 and EdDSA). Keep RS256: OpenID Connect Core §15.1 requires it.
// NewManager panics on an algorithm not in SupportedAlgorithms.
func WithAlgorithms(algs ...string) Option {
	return func(m *Manager) { m.algs = slices.Clone(algs) }
}

// NewManager returns a Manager that keeps keys in store, sealed by sealer.
func NewManager(store storage.Store, sealer *Sealer, opts ...Option) *Manager {
	m := &Manager{
		store:     store,
		sealer:    sealer,
		now:       time.Now,
		ttl:       DefaultCacheTTL,
		retention: DefaultRetention,
		algs:      SupportedAlgorithms(),
	}
	for _, opt := range opts {
		opt(m)
	}
	if len(m.algs) == 0 {
		panic("keys: WithAlgorithms needs at least one algorithm")
	}
	for _, alg := range m.algs {
		if !supported(alg) {
			panic(fmt.Sprintf("keys: unsupported signing algorithm %q (want one of %v)", alg, SupportedAlgorithms()))
		}
	}
	return m
}

// Algorithms lists the algorithms the Manager keeps keys for, as
// configured (for discovery's id_token_signing_alg_values_supported).
func (m *Manager) Algorithms() []string { return slices.Clone(m.algs) }

func (m *Manager) enabled(alg string) bool { return slices.Contains(m.algs, alg) }

// Signer returns the signer of the tenant's active key for alg. It costs
// no storage round trip while the tenant's snapshot is fresh. A tenant
// without keys gets them (see EnsureKeys).
func (m *Manager) Signer(ctx context.Context, tenantID, alg string) (*Signer, error) {
	snap, err := m.snapshot(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if s := snap.signers[alg]; s != nil {
		return s, nil
	}
	if !m.enabled(alg) {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
	}
	if snap, err = m.ensured(ctx, tenantID); err != nil {
		return nil, err
	}
	if s := snap.signers[alg]; s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("keys: tenant %s has no active %s key", tenantID, alg)
}

// KeySet returns the tenant's published keys (RFC 7517 §5): every next
// and active key and every retired key that has not expired; public
// halves only. The set is shared: callers must not modify it. A tenant
// without keys gets them (see EnsureKeys).
func (m *Manager) KeySet(ctx context.Context, tenantID string) (*jose.JSONWebKeySet, error) {
	snap, err := m.snapshot(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if !snap.complete {
		if snap, err = m.ensured(ctx, tenantID); err != nil {
			return nil, err
		}
	}
	return snap.set, nil
}

// PublicKey returns the published key kid of the tenant, to verify a token
// orgid signed. A kid not in the snapshot makes it read the store again,
// at most once a second per tenant; then it is storage.ErrNotFound. The
// key is shared: callers must not modify it.
func (m *Manager) PublicKey(ctx context.Context, tenantID, kid string) (*jose.JSONWebKey, error) {
	snap, err := m.snapshot(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if k := snap.public[kid]; k != nil {
		return k, nil
	}
	if snap, err = m.reloadForMiss(ctx, tenantID, snap); err != nil {
		return nil, err
	}
	if k := snap.public[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("keys: unknown key ID: %w", storage.ErrNotFound)
}

// Invalidate drops this replica's snapshot of the tenant's keys, so that
// the next use reads the store.
func (m *Manager) Invalidate(tenantID string) {
	if tk, ok := m.tenants.Load(tenantID); ok {
		tk.(*tenantKeys).invalidate()
	}
}

// ensured makes sure the tenant has a full set of keys and returns a
// snapshot read after that.
func (m *Manager) ensured(ctx context.Context, tenantID string) (*snapshot, error) {
	if err := m.EnsureKeys(ctx, tenantID); err != nil {
		return nil, err
	}
	return m.reload(ctx, tenantID)
}
