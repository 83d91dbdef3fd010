package usage

import (
	"fmt"
	"sync"
	"time"

	"github.com/orgid/orgid/storage"
)

// month is a UTC year and month as year*100+month (202503): a key that
// costs no allocation on the token path, unlike the "2025-03" the store
// keeps.
type month int32

func monthOf(t time.Time) month {
	y, m, _ := t.UTC().Date()
	return month(y*100 + int(m))
}

func (m month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/100, int(m)%100) }

type tokenKey struct {
	tenant, org, client string
	month               month
}

type userKey struct {
	tenant, org, user string
	month             month
}

// Recorder accumulates usage in memory until a Batcher takes it. It is
// safe for concurrent use; the zero value is not: use NewRecorder.
type Recorder struct {
	mu     sync.Mutex
	tokens map[tokenKey]int64
	users  map[userKey]struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{tokens: map[tokenKey]int64{}, users: map[userKey]struct{}{}}
}

// Token records one token issued at at by clientID in the context of
// organization orgID ("" for none: the tenant level), for userID ("" for
// a machine-to-machine token, which makes no user active). It does no
// I/O: a map increment under a mutex.
func (r *Recorder) Token(tenant, orgID, clientID, userID string, at time.Time) {
	m := monthOf(at)
	r.mu.Lock()
	r.tokens[tokenKey{tenant: tenant, org: orgID, client: clientID, month: m}]++
	if userID != "" {
		r.users[userKey{tenant: tenant, org: orgID, user: userID, month: m}] = struct{}{}
	}
	r.mu.Unlock()
}

// take returns what was recorded since the last take and starts afresh.
// The maps are swapped, not copied, so the lock is held for no longer
// than a Token takes.
func (r *Recorder) take() (map[tokenKey]int64, map[userKey]struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tokens) == 0 && len(r.users) == 0 {
		return nil, nil
	}
	tokens, users := r.tokens, r.users
	r.tokens, r.users = make(map[tokenKey]int64, len(tokens)), make(map[userKey]struct{}, len(users))
	return tokens, users
}

// rows turns counters into what the store writes.
func rows(tokens map[tokenKey]int64, users map[userKey]struct{}) ([]storage.UsageCount, []storage.ActiveUser) {
	counts := make([]storage.UsageCount, 0, len(tokens))
	for k, n := range tokens {
		counts = append(counts, storage.UsageCount{TenantID: k.tenant, OrganizationID: k.org, ClientID: k.client, Month: k.month.String(), Tokens: n})
	}
	active := make([]storage.ActiveUser, 0, len(users))
	for k := range users {
		active = append(active, storage.ActiveUser{TenantID: k.tenant, OrganizationID: k.org, Month: k.month.String(), UserID: k.user})
	}
	return counts, active
}
