package httpx

import (
	"context"
	"sync"
)

// Info is what the outermost middleware knows about one request and what
// handlers deeper down tell it: the request ID, the route template it
// matched, the client that authenticated, the OAuth error code it was
// refused with and the internal cause of a failure. The access log line
// and the request metrics are written from it once the response is done.
//
// Every setter is safe on a nil *Info (a handler called outside the
// middleware, as in unit tests), and safe for concurrent use.
type Info struct {
	// RequestID is the caller's X-Request-Id when sane, one made up
	// otherwise; it is echoed in the response. Set once, before the
	// handlers run; read-only afterwards.
	RequestID string
	// ClientIP is the client's address (ResolveClientIP), set with
	// RequestID.
	ClientIP string

	mu       sync.Mutex
	route    string
	tenant   string
	clientID string
	errCode  string
	cause    error
}

type infoKey struct{}

// WithInfo returns ctx carrying i.
func WithInfo(ctx context.Context, i *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, i)
}

// RequestInfo returns the request's Info, or nil outside the middleware.
func RequestInfo(ctx context.Context) *Info {
	i, _ := ctx.Value(infoKey{}).(*Info)
	return i
}

// RequestID returns the request ID of ctx's request, or "".
func RequestID(ctx context.Context) string {
	if i := RequestInfo(ctx); i != nil {
		return i.RequestID
	}
	return ""
}

// SetRoute records the route template the request matched, such as
// "/t/{tenant}/oauth/token": a template, never a raw path, because it
// becomes a metric label.
func (i *Info) SetRoute(template string) {
	i.set(func() { i.route = template })
}

// SetTenant records the tenant the request is for.
func (i *Info) SetTenant(id string) {
	i.set(func() { i.tenant = id })
}

// SetClientID records the OAuth client that authenticated (or asked).
func (i *Info) SetClientID(id string) {
	i.set(func() { i.clientID = id })
}

// SetError records the OAuth or problem error code the client was
// answered with ("invalid_grant", "rate_limited", …).
func (i *Info) SetError(code string) {
	i.set(func() { i.errCode = code })
}

// SetCause records the internal cause of a failure, for operators only:
// it goes to the access log line, never to the client.
func (i *Info) SetCause(err error) {
	i.set(func() { i.cause = err })
}

func (i *Info) set(f func()) {
	if i == nil {
		return
	}
	i.mu.Lock()
	f()
	i.mu.Unlock()
}

// Snapshot is a copy of an Info's fields.
type Snapshot struct {
	RequestID, Route, Tenant, ClientID, Error string
	Cause                                     error
}

// Snapshot returns what has been recorded so far.
func (i *Info) Snapshot() Snapshot {
	if i == nil {
		return Snapshot{}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return Snapshot{RequestID: i.RequestID, Route: i.route, Tenant: i.tenant, ClientID: i.clientID, Error: i.errCode, Cause: i.cause}
}
