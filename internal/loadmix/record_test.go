package loadmix

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestRecorder: answers are classed, successes land in the second their
// answer arrived, failures are kept with their body, and an interval
// reports and resets its own counts. (The load itself is exercised over
// real replicas by internal/server's TestFaultRestart.)
func TestRecorder(t *testing.T) {
	for _, c := range []struct {
		status int
		err    error
		want   Class
	}{
		{200, nil, Class2xx}, {201, nil, Class2xx}, {204, nil, Class2xx}, {429, nil, Class429},
		{503, nil, Class503}, {500, nil, Class500}, {400, nil, ClassOther}, {502, nil, ClassOther},
		{0, errors.New("connection refused"), ClassTransport},
	} {
		if got := classify(c.status, c.err); got != c.want {
			t.Errorf("classify(%d, %v) = %s, want %s", c.status, c.err, got, c.want)
		}
	}

	r := newRecorder(time.Now())
	r.record(Event{At: 100 * time.Millisecond, Op: OpM2M, Class: Class2xx, Latency: 2 * time.Millisecond})
	r.record(Event{At: 900 * time.Millisecond, Op: OpRefresh, Class: Class2xx, Latency: 200 * time.Millisecond}) // answered in second 1
	r.record(Event{At: 2500 * time.Millisecond, Op: OpWrite, Class: Class503, Status: 503, Latency: time.Millisecond, Body: "down"})
	r.record(Event{At: 2600 * time.Millisecond, Op: OpWrite, Class: ClassTransport, Body: "refused"})

	if got, want := r.Timeline(), []int64{1, 1}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if f := r.Failures(); len(f) != 2 || f[0].Body != "down" || f[1].Class != ClassTransport {
		t.Errorf("failures %+v", f)
	}
	c := r.Counts()
	if c[OpWrite][Class503] != 1 || c[OpWrite][ClassTransport] != 1 || c[OpM2M].Total() != 1 || c[OpRefresh][Class2xx] != 1 {
		t.Errorf("counts %+v", c)
	}
	iv := r.Interval()
	if iv.Requests != 4 || iv.Successes != 2 || iv.P99 != 200*time.Millisecond || iv.P50 != 2*time.Millisecond {
		t.Errorf("first interval %+v", iv)
	}
	if iv := r.Interval(); iv.Requests != 0 || iv.P99 != 0 {
		t.Errorf("second interval %+v, want empty", iv)
	}
	if c := r.Counts(); c[OpWrite].Total() != 2 {
		t.Errorf("totals after an interval %+v, want kept", c)
	}
}
