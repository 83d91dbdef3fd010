package op

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// MaxFormBytes is the largest request body any protocol endpoint reads.
// The largest legitimate form is a token request with a client assertion
// and a subject token (a few KiB each); 64 KiB leaves room and keeps a
// flood of huge bodies from costing memory.
const MaxFormBytes = 64 << 10

// RateLimit is a token bucket: PerSecond requests a second, up to Burst
// at once. The zero RateLimit limits nothing.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

func (r RateLimit) enabled() bool { return r.PerSecond > 0 && r.Burst > 0 }

// errTooManyRequests is the error code of a rate-limited token request.
// No RFC defines one for the token endpoint (slow_down is the device
// flow's polling signal, RFC 8628 §3.5; temporarily_unavailable is what
// orgid answers, with 503, when a store is down). too_many_requests is the
// code Auth0 answers with, and it names the cause, so a client or an
// operator reading the metrics can tell throttling from an outage.
const errTooManyRequests = "too_many_requests"

// limitWarnEvery spaces out the warning logged when the rate limiter's
// store fails, so an outage under load logs one line, not one a request.
const limitWarnEvery = 10 * time.Second

// limiter holds what limits needs between requests.
type limiter struct {
	client, ip RateLimit
	lastWarn   atomic.Int64 // UnixNano of the last store-failure warning

	mu sync.Mutex
	// credit holds tokens this replica took from a bucket ahead of use,
	// by bucket key.
	credit map[string]credit
}

// credit is tokens taken from a bucket and not spent yet, good until until.
type credit struct {
	n     int
	until time.Time
}

// Tokens are taken from the shared store a few at a time: a twentieth of
// the burst, at least 1 and at most maxBatch. With the default 200-token
// client burst a replica goes to Redis once every 10 token requests of a
// client instead of every time. Nothing is ever let through that the
// bucket did not give: a replica only spends what it took. What it gives
// up in exchange is precision: a replica may sit on up to batch-1 of a
// bucket's tokens, for at most creditTTL, while another is refused. Small
// bursts (tests, strict limits) take one at a time and stay exact.
const (
	maxBatch  = 20
	creditTTL = time.Second
	// maxCredits bounds the credit map: client IDs and addresses are the
	// caller's to choose.
	maxCredits = 4096
)

func batch(r RateLimit) int { return min(maxBatch, max(1, r.Burst/20)) }

// spend takes one token of key's local credit, if it has one.
func (l *limiter) spend(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.credit[key]
	if !ok || c.n == 0 || !now.Before(c.until) {
		return false
	}
	c.n--
	if c.n == 0 {
		delete(l.credit, key)
	} else {
		l.credit[key] = c
	}
	return true
}

// keep adds n tokens taken from key's bucket to the local credit.
func (l *limiter) keep(key string, n int, now time.Time) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.credit == nil {
		l.credit = make(map[string]credit)
	}
	if len(l.credit) >= maxCredits {
		for k, c := range l.credit {
			if !now.Before(c.until) {
				delete(l.credit, k)
			}
		}
		if len(l.credit) >= maxCredits {
			clear(l.credit) // dropping credit only ever refuses sooner
		}
	}
	c := l.credit[key]
	if !now.Before(c.until) {
		c.n = 0
	}
	l.credit[key] = credit{n: c.n + n, until: now.Add(creditTTL)}
}

// limits caps request bodies of every protocol endpoint (413) and rate
// limits the token endpoint per client and per client IP (429), before
// the library reads the request. Both answer with an OAuth error body
// (RFC 6749 §5.2 shape).
func (p *Provider) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			var ok bool
			if body, ok = readCapped(w, r); !ok {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		// Every token request counts, with a body or without (a bodiless
		// one still costs a client authentication); CORS preflights do not.
		if r.URL.Path == endpoints.Token.Relative() && r.Method != http.MethodOptions && !p.allowToken(w, r, body) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readCapped reads the whole body if it is at most MaxFormBytes. Over the
// cap, or unreadable, it answers the request and reports false. The body
// is read here, not by the library, so that the answer is a 413 with an
// OAuth error rather than whatever the library makes of a failed
// ParseForm; a declared Content-Length over the cap is refused unread.
func readCapped(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > MaxFormBytes {
		writeLimitError(w, r, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large (limit 64 KiB).")
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxFormBytes+1))
	if err != nil {
		// Mostly the read timeout or a client that went away.
		writeLimitError(w, r, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return nil, false
	}
	if len(body) > MaxFormBytes {
		writeLimitError(w, r, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large (limit 64 KiB).")
		return nil, false
	}
	return body, true
}

// allowToken takes a token from the client's bucket and from the IP
// address's: from this replica's credit when it has some, else from the
// shared store in one round trip (a few at a time, see batch). When either
// is empty it answers 429 and reports false. A request refused by one
// bucket has still spent a token of the other: each bucket is its own key
// (a Redis Cluster may keep them on different nodes), and the imprecision
// only ever slows a client that shares a flooding IP, or an IP whose
// client floods.
//
// When the store fails the request goes through (fail open, logged): the
// limit protects orgid from abusive clients, and turning an ephemeral
// store outage into refused tokens would stop m2m clients that otherwise
// need only the durable store. Requests that need the ephemeral store
// still answer 503 where they use it.
func (p *Provider) allowToken(w http.ResponseWriter, r *http.Request, body []byte) bool {
	l := &p.limiter
	if !l.client.enabled() && !l.ip.enabled() {
		return true
	}
	ctx := r.Context()
	tenant := tenantID(ctx)
	now := p.now()
	need := make([]storage.Bucket, 0, 2)
	add := func(key string, rate RateLimit) {
		if !l.spend(key, now) {
			need = append(need, storage.Bucket{Key: key, Rate: rate.PerSecond, Burst: rate.Burst, Want: batch(rate)})
		}
	}
	if id := requestClientID(r, body); id != "" && l.client.enabled() {
		add("ratelimit:token:client:"+tenant+":"+bucketName(id), l.client)
	}
	if l.ip.enabled() {
		add("ratelimit:token:ip:"+tenant+":"+httpx.ClientIP(r), l.ip)
	}
	if len(need) == 0 {
		return true
	}
	grants, err := p.cfg.State.KV.Take(ctx, now, need...)
	if err != nil {
		p.warnLimiter(r, err)
		return true
	}
	var wait time.Duration
	refused := false
	for i, g := range grants {
		if g.Tokens == 0 {
			refused, wait = true, max(wait, g.RetryAfter)
			continue
		}
		l.keep(need[i].Key, g.Tokens-1, now)
	}
	if refused {
		secs := max(1, int(math.Ceil(wait.Seconds())))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeLimitError(w, r, http.StatusTooManyRequests, errTooManyRequests,
			"Too many token requests; retry after "+strconv.Itoa(secs)+" s.")
		return false
	}
	return true
}

// warnLimiter logs a failed take, at most once every limitWarnEvery.
func (p *Provider) warnLimiter(r *http.Request, err error) {
	now := time.Now().UnixNano()
	last := p.limiter.lastWarn.Load()
	if now-last < int64(limitWarnEvery) || !p.limiter.lastWarn.CompareAndSwap(last, now) {
		return
	}
	p.log.WarnContext(r.Context(), "token rate limit not applied: ephemeral store failed; letting requests through",
		slog.Any("error", err))
}

// requestClientID names the client a token request is from, unverified:
// HTTP Basic user (form-encoded, RFC 6749 §2.3.1), else the client_id
// field, else the issuer of a client_assertion (RFC 7523 §3). An unproven
// ID is a fine bucket key: spending a bucket only ever slows that ID, and
// the IP limit bounds how many IDs one address can try.
func requestClientID(r *http.Request, body []byte) string {
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			return id
		}
		return user
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	if id := form.Get("client_id"); id != "" {
		return id
	}
	if raw := form.Get("client_assertion"); raw != "" {
		if a, err := parseClientAssertion(raw); err == nil {
			return a.clientID
		}
	}
	return ""
}

// bucketName keeps keys short whatever a client sends as its ID.
func bucketName(clientID string) string {
	if len(clientID) <= 128 {
		return clientID
	}
	sum := sha256.Sum256([]byte(clientID))
	return "sha256-" + hex.EncodeToString(sum[:])
}

// writeLimitError answers with an OAuth error body. Browsers' cross-origin
// callers (single-page apps) get the CORS headers the library would have
// added, and may read Retry-After.
func writeLimitError(w http.ResponseWriter, r *http.Request, status int, code, description string) {
	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Retry-After")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	httpx.RequestInfo(r.Context()).SetError(code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
}
