// Command soak runs orgid's mixed load (internal/loadmix: client
// credentials organization tokens, refresh → organization token chains,
// management writes) at a fixed rate against one replica for a long time,
// and prints one row per interval: requests, throughput, p50 and p99
// latency, and the server's RSS, goroutines and open file descriptors. At
// the end it compares the last intervals with the first ones after the
// warm-up, to show whether anything grows. bench/soak.sh starts orgid and
// runs it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/loadmix"
)

// fatalT reports a failed setup step and exits.
type fatalT struct{}

func (fatalT) Helper()                           {}
func (fatalT) Fatal(args ...any)                 { log.Fatal(args...) }
func (fatalT) Fatalf(format string, args ...any) { log.Fatalf(format, args...) }

// row is one interval's figures; -1 is "not known".
type row struct {
	n                   int
	full                bool // a whole interval (the last one may be short)
	requests, successes int64
	rps                 float64
	p50, p99            time.Duration
	rssKiB, goroutines  int64
	fds                 int64
}

func main() {
	issuer := flag.String("issuer", "http://127.0.0.1:8080/t/default", "issuer of the tenant")
	clientID := flag.String("client-id", "", "m2m client with the tenant role admin (e.g. the bootstrap client)")
	secret := flag.String("client-secret", "", "its secret")
	workers := flag.Int("workers", 8, "concurrent requests at most")
	rate := flag.Float64("rate", 100, "requests per second")
	duration := flag.Duration("duration", 30*time.Minute, "how long to run")
	interval := flag.Duration("interval", time.Minute, "time between two rows")
	warmup := flag.Duration("warmup", 5*time.Minute, "rows before this are not compared (capped to a third of the duration)")
	pid := flag.Int("pid", 0, "orgid's process ID (RSS and open fds from /proc)")
	metricsURL := flag.String("metrics", "", "orgid's /metrics URL (goroutines); default {issuer's base}/metrics")
	flag.Parse()
	if *clientID == "" || *secret == "" {
		log.Fatal("-client-id and -client-secret are required")
	}
	if *metricsURL == "" {
		base, _, _ := strings.Cut(*issuer, "/t/")
		*metricsURL = base + "/metrics"
	}
	*warmup = min(*warmup, *duration/3)

	load := loadmix.Setup(context.Background(), fatalT{}, loadmix.Config{
		Issuer: *issuer, AdminClientID: *clientID, AdminSecret: *secret, Workers: *workers, Rate: *rate,
	})
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	rec, wait := load.Start(ctx)
	done := make(chan struct{})
	go func() { wait(); close(done) }()

	fmt.Printf("soak: %s at %.0f req/s (mix %+v), %d workers, a row every %s, warm-up %s\n",
		*duration, *rate, loadmix.DefaultMix, *workers, *interval, *warmup)
	fmt.Printf("%6s %9s %8s %9s %9s %9s %10s %6s %s\n", "minute", "requests", "req/s", "p50", "p99", "RSS MiB", "goroutines", "fds", "non-2xx")
	hc := &http.Client{Timeout: 5 * time.Second}
	var rows []row
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-tick.C:
		case <-done:
		}
		finished := ctx.Err() != nil
		if finished {
			<-done
		}
		iv := rec.Interval()
		if finished && iv.End-iv.Start < *interval/10 {
			break // the run ended just after a row: nothing to show
		}
		r := row{full: iv.End-iv.Start >= *interval*9/10, n: n, requests: iv.Requests, successes: iv.Successes, p50: iv.P50, p99: iv.P99,
			rps:    float64(iv.Requests) / (iv.End - iv.Start).Seconds(),
			rssKiB: procStatus(*pid, "VmRSS"), goroutines: scrape(hc, *metricsURL, "go_goroutines"), fds: openFDs(*pid)}
		rows = append(rows, r)
		var bad []string
		for _, op := range loadmix.Ops {
			c := iv.Counts[op]
			if k := c.Total() - c[loadmix.Class2xx]; k > 0 {
				bad = append(bad, fmt.Sprintf("%s:%d", op, k))
			}
		}
		fmt.Printf("%6.1f %9d %8.1f %9s %9s %9s %10s %6s %s\n", iv.End.Minutes(), r.requests, r.rps,
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond),
			known(r.rssKiB, func(v int64) string { return fmt.Sprintf("%.1f", float64(v)/1024) }),
			known(r.goroutines, func(v int64) string { return strconv.FormatInt(v, 10) }),
			known(r.fds, func(v int64) string { return strconv.FormatInt(v, 10) }), strings.Join(bad, " "))
		if finished {
			break
		}
	}
	verdict(rows, int(*warmup / *interval))
}

// verdict compares the last rows with the first rows after the warm-up:
// RSS and goroutines should not grow, p99 should not drift up.
func verdict(rows []row, warm int) {
	// The last row may be a short one; compare full intervals only.
	if len(rows) > 0 && !rows[len(rows)-1].full {
		rows = rows[:len(rows)-1]
	}
	if len(rows)-warm < 2 {
		fmt.Println("verdict: too few intervals after the warm-up to compare")
		return
	}
	after := rows[warm:]
	k := max(1, len(after)/3)
	first, last := after[:k], after[len(after)-k:]
	avg := func(rs []row, f func(row) int64) float64 {
		var s float64
		for _, r := range rs {
			s += float64(f(r))
		}
		return s / float64(len(rs))
	}
	rss0, rss1 := avg(first, func(r row) int64 { return r.rssKiB }), avg(last, func(r row) int64 { return r.rssKiB })
	g0, g1 := avg(first, func(r row) int64 { return r.goroutines }), avg(last, func(r row) int64 { return r.goroutines })
	f0, f1 := avg(first, func(r row) int64 { return r.fds }), avg(last, func(r row) int64 { return r.fds })
	p0, p1 := avg(first, func(r row) int64 { return int64(r.p99) }), avg(last, func(r row) int64 { return int64(r.p99) })
	var problems []string
	// Thresholds leave room for GC timing and pools: 10% + 8 MiB of RSS,
	// 20% + 10 goroutines or fds, p99 twice as long.
	if rss0 > 0 && rss1 > rss0*1.10+8*1024 {
		problems = append(problems, "RSS grows")
	}
	if g0 > 0 && g1 > g0*1.2+10 {
		problems = append(problems, "goroutines grow")
	}
	if f0 > 0 && f1 > f0*1.2+10 {
		problems = append(problems, "open fds grow")
	}
	if p1 > 2*p0 {
		problems = append(problems, "p99 drifts up")
	}
	status := "FLAT"
	if len(problems) > 0 {
		status = "GROWS: " + strings.Join(problems, ", ")
	}
	fmt.Printf("verdict: %s — rows %d–%d vs %d–%d after a %d-row warm-up: RSS %.1f → %.1f MiB, goroutines %.0f → %.0f, fds %.0f → %.0f, p99 %s → %s\n",
		status, first[0].n, first[len(first)-1].n, last[0].n, last[len(last)-1].n, warm,
		rss0/1024, rss1/1024, g0, g1, f0, f1, time.Duration(p0).Round(10*time.Microsecond), time.Duration(p1).Round(10*time.Microsecond))
}

func known(v int64, f func(int64) string) string {
	if v < 0 {
		return "-"
	}
	return f(v)
}

// procStatus reads a kB field of /proc/<pid>/status (-1 when unknown).
func procStatus(pid int, field string) int64 {
	if pid == 0 {
		return -1
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// openFDs counts /proc/<pid>/fd (-1 when unknown).
func openFDs(pid int) int64 {
	if pid == 0 {
		return -1
	}
	e, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return int64(len(e))
}

// scrape reads one unlabelled gauge from a Prometheus text exposition
// (-1 when the endpoint or the metric is missing).
func scrape(hc *http.Client, u, name string) int64 {
	resp, err := hc.Get(u)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return -1
}
