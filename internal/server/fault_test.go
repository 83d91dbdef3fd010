package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/loadmix"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// faultWindow is one outage: when the service was stopped and when it
// answered again, since the load started.
type faultWindow struct {
	name       string
	down, back time.Duration
}

const (
	// faultGrace is how long after the service is back a request may
	// still get a 503 (pooled connections to the old server are found
	// dead on first use), and the time throughput has to recover (issue 9).
	faultGrace = 5 * time.Second
	// recoveredShare of the baseline throughput counts as recovered: the
	// load is paced, so a healthy second is the baseline give or take a
	// few requests, and 90% is "its level before the fault".
	recoveredShare = 0.9
)

// TestFaultRestart: two orgid replicas on one PostgreSQL and one Redis
// under a steady mixed load (client credentials, refresh → organization
// token, management writes); PostgreSQL is restarted, then Redis, mid-run
// (issue 9, DESIGN §8). Afterwards: no 500 at all; every other non-2xx is
// a 503 inside an outage (stop → back + 5 s); every acknowledged write is
// in the database; every refresh token orgid answered with works; and
// throughput is back to 70% of the baseline within 5 s of each service
// being back. The figures are logged (go test -v).
//
// PostgreSQL and Redis are private to the test (started from the machine's
// binaries on free ports), so the shared services other tests use are never
// restarted. It runs when ORGID_TEST_DATABASE_URL is set (as in .ci/run),
// and fails rather than skips when they cannot be started.
func TestFaultRestart(t *testing.T) {
	if os.Getenv(sqltest.EnvDatabaseURL) == "" {
		t.Skip("set ORGID_TEST_DATABASE_URL to run the fault test (it starts its own PostgreSQL and Redis)")
	}
	pg := startPrivatePostgres(t)
	red := startPrivateRedis(t)

	// Two replicas behind one public URL (replica A's address).
	tsA, tsB := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	cfg := testConfig(t, "http://"+tsA.Listener.Addr().String())
	cfg.DatabaseURL, cfg.RedisURL = pg.URL(), red.URL()
	cfg.BootstrapClientID, cfg.BootstrapClientSecret = "fault-admin", "fault-admin-secret-0123456789abcdefghij"
	logs := &e2etest.Buffer{}
	for _, ts := range []*httptest.Server{tsA, tsB} {
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", ts.Listener.Addr().String())
		srv, err := server.New(context.Background(), server.Options{Config: cfg, Logger: log})
		if err != nil {
			t.Fatalf("replica %s: %v", ts.Listener.Addr(), err)
		}
		ts.Config.Handler = srv.Handler
		ts.Start()
		t.Cleanup(func() { ts.Close(); srv.Close() })
	}

	load := loadmix.Setup(context.Background(), t, loadmix.Config{
		Issuer:        tsA.URL + "/t/default",
		Bases:         []string{tsA.URL, tsB.URL},
		AdminClientID: cfg.BootstrapClientID, AdminSecret: cfg.BootstrapClientSecret,
		Workers: 16, Chains: 8, Rate: 100,
	})
	ctx, stop := context.WithCancel(context.Background())
	rec, wait := load.Start(ctx)
	defer func() { stop(); wait() }()
	since := func() time.Duration { return time.Since(rec.Start()) }

	// Timeline: 5 s baseline, PostgreSQL down 2 s, 8 s, Redis down 2 s, 8 s.
	var faults []faultWindow
	outage := func(name string, stopSvc, startSvc func() error) {
		f := faultWindow{name: name, down: since()}
		if err := stopSvc(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if err := startSvc(); err != nil {
			t.Fatal(err)
		}
		f.back = since()
		faults = append(faults, f)
		time.Sleep(8 * time.Second)
	}
	time.Sleep(5 * time.Second)
	outage("PostgreSQL", pg.stop, pg.start)
	outage("Redis", red.stop, red.start)
	stop()
	wait()
	end := since()

	counts := rec.Counts()
	failures := rec.Failures()
	timeline := rec.Timeline()
	p50, p99 := rec.Latency()
	var total loadmix.Counts
	for _, op := range loadmix.Ops {
		c := counts[op]
		for i := range c {
			total[i] += c[i]
		}
		t.Logf("%-8s requests=%d 2xx=%d 503=%d 500=%d 429=%d other=%d transport=%d", op, c.Total(),
			c[loadmix.Class2xx], c[loadmix.Class503], c[loadmix.Class500], c[loadmix.Class429], c[loadmix.ClassOther], c[loadmix.ClassTransport])
	}
	t.Logf("load: %d requests in %s over 2 replicas, p50 %s p99 %s", total.Total(), end.Round(time.Millisecond), p50, p99)

	// No 500, and every other failure is a 503 within an outage.
	inOutage := func(ev loadmix.Event) *faultWindow {
		for i, f := range faults {
			if ev.At >= f.down && ev.At+ev.Latency <= f.back+faultGrace {
				return &faults[i]
			}
		}
		return nil
	}
	per := map[string][]loadmix.Event{}
	var stray []loadmix.Event
	for _, ev := range failures {
		f := inOutage(ev)
		if ev.Class != loadmix.Class503 || f == nil {
			stray = append(stray, ev)
			continue
		}
		per[f.name] = append(per[f.name], ev)
	}
	for _, ev := range stray {
		t.Errorf("at %s %s to %s: %d (%s), outside an outage or not a 503: %s", ev.At.Round(time.Millisecond), ev.What, ev.Base, ev.Status, ev.Class, ev.Body)
	}
	if total[loadmix.Class500] > 0 {
		var lines []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "level=ERROR") && len(lines) < 20 {
				lines = append(lines, l)
			}
		}
		t.Errorf("%d answers were 500; orgid's error log:\n%s", total[loadmix.Class500], strings.Join(lines, "\n"))
	}

	// Throughput: the median of the baseline's full seconds, then per
	// outage the first second at 70% of it.
	baseline := median(timeline[1:int(faults[0].down/time.Second)])
	t.Logf("baseline throughput %.0f successes/s (median of seconds 1–%d; target rate 100/s)", baseline, int(faults[0].down/time.Second)-1)
	for i, f := range faults {
		evs := per[f.name]
		var last time.Duration
		var withRetryAfter int
		for _, ev := range evs {
			last = max(last, ev.At+ev.Latency)
			if ev.RetryAfter != "" {
				withRetryAfter++
			}
		}
		lastMsg := "none"
		if len(evs) > 0 {
			lastMsg = fmt.Sprintf("%s after it was back", (last - f.back).Round(time.Millisecond))
		}
		t.Logf("%s: down at %s for %s; %d answers 503 (%d with Retry-After), the last one %s",
			f.name, f.down.Round(time.Millisecond), (f.back - f.down).Round(time.Millisecond), len(evs), withRetryAfter, lastMsg)

		nextEnd := end
		if i+1 < len(faults) {
			nextEnd = faults[i+1].down
		}
		recovered := time.Duration(-1)
		for s := int(f.back / time.Second); s < len(timeline) && time.Duration(s)*time.Second < nextEnd; s++ {
			if float64(timeline[s]) >= recoveredShare*baseline {
				recovered = max(0, time.Duration(s+1)*time.Second-f.back)
				break
			}
		}
		steady := median(timeline[min(len(timeline), int((f.back+faultGrace)/time.Second)+1):min(len(timeline), int(nextEnd/time.Second))])
		t.Logf("%s: throughput back to ≥%.0f%% of baseline %s after it was back (second by second after the stop: %v); steady afterwards %.0f/s",
			f.name, 100*recoveredShare, recovered.Round(time.Millisecond), timeline[int(f.down/time.Second):min(len(timeline), int(nextEnd/time.Second))], steady)
		if recovered < 0 || recovered > faultGrace {
			t.Errorf("%s: throughput did not return to %.0f%% of the baseline (%.0f/s) within %s of the service being back", f.name, 100*recoveredShare, baseline, faultGrace)
		}
	}
	// Each outage must have been felt: sign-ins need Redis (the auth
	// request), everything else PostgreSQL.
	for _, f := range faults {
		if len(per[f.name]) == 0 {
			t.Errorf("no request failed while %s was down: did the restart happen?", f.name)
		}
	}

	// Every acknowledged write is in the database, read back at both replicas.
	acked, failed := load.Writes()
	errs := load.VerifyWrites(context.Background())
	t.Logf("writes: %d acknowledged and read back (%d missing or wrong), %d not acknowledged", len(acked), len(errs), failed)
	for _, err := range errs[:min(len(errs), 20)] {
		t.Error(err)
	}
	if len(acked) == 0 {
		t.Error("no management write was acknowledged")
	}

	// Every refresh token orgid answered with works.
	cr := load.CheckChains(context.Background())
	t.Logf("refresh chains: %d chains, %d answered refreshes, %d answered tokens refreshed again, %d given up after a lost answer",
		cr.Chains, cr.Refreshes, cr.Works, len(cr.Ambiguous))
	for _, a := range cr.Ambiguous {
		t.Log(a)
	}
	for _, f := range cr.Failures {
		t.Error(f)
	}
	if cr.Works == 0 {
		t.Error("no refresh chain works")
	}
	if t.Failed() {
		t.Logf("orgid's warnings and errors (last 4 KiB):\n%s", tail(logs.String(), 4096))
	}
}

func median(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
