package loadmix

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
)

// Mix is the share of each operation: out of every
// M2M+Refresh+Write+SignIn requests, M2M are client credentials, Refresh
// refreshes, Write management writes and SignIn sign-in starts.
type Mix struct{ M2M, Refresh, Write, SignIn int }

// DefaultMix is mostly tokens with a steady trickle of writes and
// sign-ins.
var DefaultMix = Mix{M2M: 5, Refresh: 3, Write: 2, SignIn: 1}

// Config is where the load goes and how much of it.
type Config struct {
	// Issuer is the tenant's public issuer ({external URL}/t/{tenant}):
	// setup signs users up there and tokens name it.
	Issuer string
	// Bases are the replicas' base URLs (scheme://host:port); each request
	// goes to the next one. Empty means the issuer's.
	Bases []string
	// AdminClientID and AdminSecret are an m2m application of the tenant
	// with the tenant role admin (e.g. the bootstrap client).
	AdminClientID, AdminSecret string
	// Workers is the number of concurrent requests at most (default 8).
	Workers int
	// Chains is the number of users with a refresh chain (default Workers).
	Chains int
	// Rate is the target of requests per second over all workers; 0 means
	// as fast as the workers get answers. A request slot that finds every
	// worker busy is dropped, so a stall is not followed by a burst.
	Rate float64
	Mix  Mix
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
	// HTTP is the client of the load (default: one with enough idle
	// connections per host for the workers).
	HTTP *http.Client
}

// Load is a prepared mixed load; Run drives it.
type Load struct {
	cfg        Config
	hc         *http.Client
	tenantPath string // /t/{tenant}
	run        string // makes this run's names unique
	mgmt       string // management access token
	orgID      string
	m2mID      string
	m2mSecret  string
	webID      string
	webSecret  string
	chains     []*chain
	free       chan *chain
	rec        *Recorder
	writes     writeState
	next       atomic.Uint64 // round robin over Bases
	seq        atomic.Uint64 // position in the mix
}

// Organization is the organization the tokens are for.
func (l *Load) Organization() string { return l.orgID }

// Run sends the mix until ctx is done and returns when every request in
// flight has been answered (or timed out).
func (l *Load) Run(ctx context.Context) {
	_, wait := l.Start(ctx)
	wait()
}

// Start starts sending the mix until ctx is done and returns the run's
// recorder at once; wait returns when every request in flight has been
// answered (or timed out).
func (l *Load) Start(ctx context.Context) (_ *Recorder, wait func()) {
	l.rec = newRecorder(time.Now())
	var slots chan struct{}
	if l.cfg.Rate > 0 {
		// Unbuffered: a tick that finds no idle worker is lost, so after
		// an outage the load resumes at the rate instead of a burst.
		slots = make(chan struct{})
		go func() {
			t := time.NewTicker(time.Duration(float64(time.Second) / l.cfg.Rate))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					select {
					case slots <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for range l.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if slots != nil {
					select {
					case <-ctx.Done():
						return
					case <-slots:
					}
				}
				l.one(context.WithoutCancel(ctx))
			}
		}()
	}
	return l.rec, wg.Wait
}

// one sends the next request of the mix.
func (l *Load) one(ctx context.Context) {
	m := l.cfg.Mix
	n := int(l.seq.Add(1)-1) % (m.M2M + m.Refresh + m.Write + m.SignIn)
	switch {
	case n < m.M2M:
		l.m2m(ctx)
	case n < m.M2M+m.Refresh:
		select {
		case c := <-l.free:
			l.refresh(ctx, c)
			l.free <- c
		default:
			// Every chain is busy (or stopped): keep the pace with a token.
			l.m2m(ctx)
		}
	case n < m.M2M+m.Refresh+m.Write:
		l.write(ctx)
	default:
		l.signIn(ctx)
	}
}

// signIn sends GET /authorize for the web application; the answer is a
// 302 to orgid's login page (counted as a success), after the auth
// request was written to the ephemeral store.
func (l *Load) signIn(ctx context.Context) {
	q := url.Values{"client_id": {l.webID}, "redirect_uri": {e2etest.Callback}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"load"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"}}
	l.send(ctx, OpSignIn, http.MethodGet, "GET /authorize", l.tenantPath+"/authorize?"+q.Encode(), nil, nil, "", "")
}

func (l *Load) m2m(ctx context.Context) {
	form := url.Values{"grant_type": {"client_credentials"}, "organization_id": {l.orgID}}
	l.send(ctx, OpM2M, "", "POST /oauth/token client_credentials", l.tenantPath+"/oauth/token", form, nil, l.m2mID, l.m2mSecret)
}

// signInStatus reads the answer to GET /authorize as the status the
// sign-in got: a redirect to orgid's login page is a success (200); a
// redirect to the client with error=temporarily_unavailable (RFC 6749
// §4.1.2.1) is the outage answer (503); anything else keeps its status.
func signInStatus(resp *http.Response) int {
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	switch {
	case err != nil:
		return resp.StatusCode
	case strings.HasSuffix(loc.Path, "/login"):
		return http.StatusOK
	case loc.Query().Get("error") == "temporarily_unavailable":
		return http.StatusServiceUnavailable
	}
	return resp.StatusCode
}

// request is what send sends.
type answer struct {
	status int
	body   []byte
	err    error
}

// send sends one request to the next replica and records it: form as
// application/x-www-form-urlencoded with basic auth, or js as JSON with
// the management token. method is "" for POST.
func (l *Load) send(ctx context.Context, op Op, method, what, path string, form url.Values, js any, user, pass string) answer {
	base := l.cfg.Bases[int(l.next.Add(1)-1)%len(l.cfg.Bases)]
	return l.sendTo(ctx, base, op, method, what, path, form, js, user, pass, true)
}

func (l *Load) sendTo(ctx context.Context, base string, op Op, method, what, path string, form url.Values, js any, user, pass string, record bool) answer {
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader
	ctype := ""
	switch {
	case form != nil:
		body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case js != nil:
		b, err := json.Marshal(js)
		if err != nil {
			panic(err) // only our own bodies are marshalled
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		panic(err) // only our own URLs are used
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	} else if l.mgmt != "" && op != OpSignIn {
		req.Header.Set("Authorization", "Bearer "+l.mgmt)
	}
	t0 := time.Now()
	var a answer
	var retryAfter string
	hc := l.hc
	if op == OpSignIn {
		// The answer itself is the result: don't follow it to the page.
		nr := *l.hc
		nr.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		hc = &nr
	}
	resp, err := hc.Do(req)
	if err == nil {
		a.status, retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		if op == OpSignIn {
			a.status = signInStatus(resp)
		}
		a.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	a.err = err
	if record && l.rec != nil {
		ev := Event{At: t0.Sub(l.rec.start), Op: op, What: what, Base: base, Status: a.status,
			Class: classify(a.status, err), Latency: time.Since(t0), Body: string(a.body), RetryAfter: retryAfter}
		if err != nil {
			ev.Status, ev.Body = 0, err.Error()
		}
		l.rec.record(ev)
	}
	return a
}

// decode reads a JSON answer into v.
func (a answer) decode(v any) error {
	if a.err != nil {
		return a.err
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("answer %d is not JSON: %s", a.status, a.body)
	}
	return nil
}

func (a answer) ok() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body))
}
