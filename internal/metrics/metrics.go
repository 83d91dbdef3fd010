// Package metrics is what orgid tells Prometheus at /metrics: HTTP
// requests by route template, tokens issued, refusals, store calls,
// caches, the mail outbox and the Go runtime. Labels are bounded sets
// (route templates, tenants, grant types, error codes), never user IDs,
// emails, tokens or raw paths. docs/operations.md lists every metric.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// UnmatchedRoute is the route label of a request no route matched, so
// that scanners probing random paths add one series, not one per path.
const UnmatchedRoute = "unmatched"

// Metrics holds one registry per server, so that servers in one process
// (tests, benchmarks) do not share counters.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	refusals *prometheus.CounterVec
	storeDur *prometheus.HistogramVec
	storeErr *prometheus.CounterVec
	cache    *prometheus.CounterVec
}

// httpBuckets span 1 ms to 10 s: a cached token request takes about a
// millisecond, and anything past the server's write timeout is an outage.
var httpBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// storeBuckets start lower: an embedded store answers in tens of
// microseconds, and a store call near its deadline (seconds) is a fault.
var storeBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// New returns the metrics of one orgid server, with the Go runtime and
// process collectors registered.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orgid_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its response, by route template and method.",
			Buckets: httpBuckets,
		}, []string{"route", "method"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_tokens_issued_total",
			Help: "Successful token responses, by tenant, grant type and kind (user, organization, m2m).",
		}, []string{"tenant", "grant_type", "kind"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_oauth_refusals_total",
			Help: "Requests refused with an OAuth (or API problem) error code, by tenant, route template and code.",
		}, []string{"tenant", "route", "error"}),
		storeDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orgid_store_call_duration_seconds",
			Help:    "Duration of durable and ephemeral store calls, by backend and operation.",
			Buckets: storeBuckets,
		}, []string{"backend", "operation"}),
		storeErr: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_store_call_errors_total",
			Help: "Store calls that failed (not found, already exists and conflict are answers, not failures).",
		}, []string{"backend", "operation"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_cache_requests_total",
			Help: "Lookups in the in-process caches, by cache and result (hit, miss).",
		}, []string{"cache", "result"}),
	}
	reg.MustRegister(m.requests, m.duration, m.tokens, m.refusals, m.storeDur, m.storeErr, m.cache)
	return m
}

// Registry is where further collectors register.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request records one finished HTTP request, and a refusal when the
// request was answered with an error code.
func (m *Metrics) Request(info httpx.Snapshot, method string, status int, d time.Duration) {
	route := info.Route
	if route == "" {
		route = UnmatchedRoute
	}
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, statusLabel(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
	if info.Error != "" {
		m.refusals.WithLabelValues(info.Tenant, route, ErrorLabel(info.Error)).Inc()
	}
}

// TokenIssued records one token response; kind is "user",
// "organization" or "m2m".
func (m *Metrics) TokenIssued(tenant, grantType, kind string) {
	m.tokens.WithLabelValues(tenant, grantType, kind).Inc()
}

// StoreCall records one call of a durable or ephemeral store operation.
// The expected outcomes that callers branch on are not errors.
func (m *Metrics) StoreCall(backend, op string, d time.Duration, err error) {
	m.storeDur.WithLabelValues(backend, op).Observe(d.Seconds())
	if err != nil && !expected(err) {
		m.storeErr.WithLabelValues(backend, op).Inc()
	}
}

func expected(err error) bool {
	for _, e := range []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrConflict, storage.ErrCodeRedeemed, storage.ErrNonceUsed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// CacheLookup records one lookup in a named in-process cache.
func (m *Metrics) CacheLookup(cache string, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cache.WithLabelValues(cache, result).Inc()
}

// CacheObserver returns the hook a ttlcache.Cache calls on each lookup.
func (m *Metrics) CacheObserver(cache string) func(hit bool) {
	hit, miss := m.cache.WithLabelValues(cache, "hit"), m.cache.WithLabelValues(cache, "miss")
	return func(h bool) {
		if h {
			hit.Inc()
		} else {
			miss.Inc()
		}
	}
}

// backlogTimeout bounds how long a scrape waits for the outbox count: a
// scrape during a database outage must answer (without the gauge's
// fresh value) rather than hang until Prometheus gives up.
const backlogTimeout = 500 * time.Millisecond

// RegisterMailBacklog publishes orgid_mail_outbox_backlog, counted by
// count at scrape time within backlogTimeout. When count fails or is
// slow, the last value counted is reported (and the failure logged), so
// the gauge stays present through a store outage.
func (m *Metrics) RegisterMailBacklog(count func(context.Context) (int, error), log *slog.Logger) {
	var last atomic.Uint64 // float64 bits of the last count
	var counting sync.Mutex
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "orgid_mail_outbox_backlog",
		Help: "Mail messages waiting in the durable outbox (pending: not yet sent, logged or given up on).",
	}, func() float64 {
		// One count at a time: concurrent scrapes during an outage
		// must not pile up store calls.
		if !counting.TryLock() {
			return math.Float64frombits(last.Load())
		}
		defer counting.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			if log != nil {
				log.Warn("metrics: count mail outbox backlog", slog.Any("error", err))
			}
			return math.Float64frombits(last.Load())
		}
		last.Store(math.Float64bits(float64(n)))
		return float64(n)
	}))
}

// methodLabel keeps the method label to the standard methods: a client
// may send any token as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return strconv.Itoa(code)
	}
	return "other"
}

// KnownErrors are the OAuth 2.0 and OpenID Connect error codes (RFC 6749
// §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1; RFC 8628 §3.5;
// RFC 8693 §2.2.2; RFC 8707 §2; OIDC Core §3.1.2.6), plus the codes
// zitadel/oidc and orgid use of their own.
var KnownErrors = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true,
	"unauthorized_client": true, "unsupported_grant_type": true, "invalid_scope": true,
	"access_denied": true, "unsupported_response_type": true, "server_error": true,
	"temporarily_unavailable": true, "invalid_token": true, "insufficient_scope": true,
	"unsupported_token_type": true, "invalid_target": true, "interaction_required": true,
	"login_required": true, "account_selection_required": true, "consent_required": true,
	"invalid_request_uri": true, "invalid_request_object": true, "request_not_supported": true,
	"request_uri_not_supported": true, "registration_not_supported": true,
	"authorization_pending": true, "slow_down": true, "expired_token": true,
	"invalid_dpop_proof": true, "use_dpop_nonce": true, "rate_limited": true,
}

// errorPattern is what a code set by orgid's own code (httpx.Info
// SetError) may look like: problem types such as "not-found" are not in
// KnownErrors, but they come from orgid's code, never from a client, so
// a short lower-case identifier keeps the label bounded.
var errorPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// ErrorLabel returns code as the error label: itself when known or of
// the safe shape, "other" otherwise.
func ErrorLabel(code string) string {
	if KnownErrors[code] || errorPattern.MatchString(code) {
		return code
	}
	return "other"
}
