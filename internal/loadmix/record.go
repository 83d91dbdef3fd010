package loadmix

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Op is the kind of one request of the mix.
type Op string

const (
	OpM2M     Op = "m2m"     // client credentials with organization_id
	OpRefresh Op = "refresh" // refresh_token grant with organization_id
	OpWrite   Op = "write"   // a management API write
	// OpSignIn starts a sign-in: GET /authorize, which stores the auth
	// request in the ephemeral store (Redis) and redirects to the login
	// page. It is the mix's request that needs Redis.
	OpSignIn Op = "signin"
)

// Ops are the kinds of the mix, in report order.
var Ops = []Op{OpM2M, OpRefresh, OpWrite, OpSignIn}

// Class is what a request got, coarsely.
type Class int

const (
	Class2xx Class = iota
	Class429
	Class503
	Class500
	ClassOther     // any other status
	ClassTransport // no answer: connection refused, reset, timeout
	numClasses
)

var classNames = [numClasses]string{"2xx", "429", "503", "500", "other", "transport"}

func (c Class) String() string { return classNames[c] }

func classify(status int, err error) Class {
	switch {
	case err != nil:
		return ClassTransport
	case status >= 200 && status < 300:
		return Class2xx
	case status == http.StatusTooManyRequests:
		return Class429
	case status == http.StatusServiceUnavailable:
		return Class503
	case status == http.StatusInternalServerError:
		return Class500
	}
	return ClassOther
}

// Counts are requests by class.
type Counts [numClasses]int64

// Total is the number of requests.
func (c Counts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// Event is one request that did not get a 2xx.
type Event struct {
	At      time.Duration // since the load started
	Op      Op
	What    string // the request, e.g. "POST /organizations"
	Base    string // the replica it went to
	Status  int    // 0 for a transport error
	Class   Class
	Latency time.Duration
	Body    string // the answer (or the error), truncated
	// RetryAfter is the answer's Retry-After header.
	RetryAfter string
}

// Interval is what happened between two calls of Recorder.Interval.
type Interval struct {
	Start, End time.Duration // since the load started
	Counts     map[Op]Counts
	Requests   int64
	Successes  int64
	P50, P99   time.Duration // over all requests that got an answer
}

// Recorder keeps the figures of a run; it is safe for concurrent use.
type Recorder struct {
	start time.Time

	mu       sync.Mutex
	counts   map[Op]*Counts
	timeline []int64 // successes per second since start
	failures []Event
	lat      []time.Duration // answered requests since the last Interval
	latAll   []time.Duration // every answered request (for the totals)
	ivCounts map[Op]*Counts
	ivStart  time.Duration
}

func newRecorder(start time.Time) *Recorder {
	r := &Recorder{start: start, counts: map[Op]*Counts{}, ivCounts: map[Op]*Counts{}}
	for _, op := range Ops {
		r.counts[op], r.ivCounts[op] = new(Counts), new(Counts)
	}
	return r
}

// Start is when the load started.
func (r *Recorder) Start() time.Time { return r.start }

func (r *Recorder) record(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[ev.Op][ev.Class]++
	r.ivCounts[ev.Op][ev.Class]++
	if ev.Class != ClassTransport {
		r.lat = append(r.lat, ev.Latency)
		r.latAll = append(r.latAll, ev.Latency)
	}
	if ev.Class == Class2xx {
		// A success counts in the second its answer arrived.
		sec := int((ev.At + ev.Latency) / time.Second)
		for len(r.timeline) <= sec {
			r.timeline = append(r.timeline, 0)
		}
		r.timeline[sec]++
		return
	}
	if len(ev.Body) > 300 {
		ev.Body = ev.Body[:300] + "…"
	}
	r.failures = append(r.failures, ev)
}

// Counts returns the requests so far by operation and class.
func (r *Recorder) Counts() map[Op]Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[Op]Counts{}
	for op, c := range r.counts {
		out[op] = *c
	}
	return out
}

// Timeline returns the successes of every second since the start (the
// last element is the current, unfinished second).
func (r *Recorder) Timeline() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.timeline)
}

// Failures returns every request that did not get a 2xx, in the order
// their answers arrived.
func (r *Recorder) Failures() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.failures)
}

// Latency returns the p50 and p99 of every answered request so far.
func (r *Recorder) Latency() (p50, p99 time.Duration) {
	r.mu.Lock()
	all := slices.Clone(r.latAll)
	r.mu.Unlock()
	return percentiles(all)
}

// Interval returns the figures since the previous call (or the start) and
// starts a new interval.
func (r *Recorder) Interval() Interval {
	now := time.Since(r.start)
	r.mu.Lock()
	lat := r.lat
	iv := Interval{Start: r.ivStart, End: now, Counts: map[Op]Counts{}}
	for op, c := range r.ivCounts {
		iv.Counts[op] = *c
		iv.Requests += c.Total()
		iv.Successes += c[Class2xx]
		r.ivCounts[op] = new(Counts)
	}
	r.lat, r.ivStart = nil, now
	r.mu.Unlock()
	iv.P50, iv.P99 = percentiles(lat)
	return iv
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*p))] }
	return at(0.50), at(0.99)
}
