// Command loadgen measures orgid's refresh_token throughput on loopback.
//
// It signs up one user per worker through the real HTML pages, gets each a
// refresh token with the authorization code flow, then has every worker
// refresh its own token chain (each answer's refresh_token is the next
// request's) as fast as orgid answers, for a fixed time. It prints
// throughput, latency percentiles and, given the server's process ID, the
// server's CPU time per request read from /proc.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
)

// fatalT reports a failed setup step and exits.
type fatalT struct{}

func (fatalT) Helper()                           {}
func (fatalT) Fatal(args ...any)                 { log.Fatal(args...) }
func (fatalT) Fatalf(format string, args ...any) { log.Fatalf(format, args...) }

func main() {
	issuer := flag.String("issuer", "http://127.0.0.1:8080/t/default", "issuer of the tenant")
	clientID := flag.String("client-id", "", "web client with redirect URI "+e2etest.Callback)
	secret := flag.String("client-secret", "", "its secret")
	workers := flag.Int("workers", 8, "concurrent token chains")
	duration := flag.Duration("duration", 20*time.Second, "how long to refresh")
	openid := flag.Bool("openid", true, "ask for openid (refreshes then return an ID token too)")
	pid := flag.Int("pid", 0, "orgid's process ID, to report its CPU time per request")
	flag.Parse()
	if *clientID == "" || *secret == "" {
		log.Fatal("-client-id and -client-secret are required")
	}

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers * 2}}
	scopes := []string{"offline_access"}
	if *openid {
		scopes = append(scopes, "openid", "profile", "email")
	}
	rp := e2etest.NewRP(fatalT{}, hc, *issuer, *clientID, *secret, scopes...)
	tokenURL := rp.Provider.Endpoint().TokenURL

	tokens := make([]string, *workers)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range tokens {
		br := e2etest.NewBrowser(fatalT{})
		v := oauth2.GenerateVerifier()
		resp := br.SignUp(rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), fmt.Sprintf("load-%s-%d@example.test", run, i), "load test password", "Load")
		code := e2etest.RedirectParams(fatalT{}, resp).Get("code")
		tok, err := rp.Config.Exchange(rp.Ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			log.Fatalf("code exchange: %v", err)
		}
		tokens[i] = tok.RefreshToken
	}

	cpu0 := cpuTime(*pid)
	start := time.Now()
	deadline := start.Add(*duration)
	lat := make([][]time.Duration, *workers)
	var wg sync.WaitGroup
	var failures sync.Map
	for w := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt := tokens[w]
			form := url.Values{"grant_type": {"refresh_token"}}
			for time.Now().Before(deadline) {
				form.Set("refresh_token", rt)
				req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(*clientID, *secret)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					failures.Store(err.Error(), true)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				var out struct {
					RefreshToken string `json:"refresh_token"`
				}
				if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.RefreshToken == "" {
					failures.Store(fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body)), true)
					return
				}
				rt = out.RefreshToken
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1 := cpuTime(*pid)

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	n := len(all)
	if n == 0 {
		log.Fatal("no request completed")
	}
	pct := func(p float64) time.Duration { return all[min(n-1, int(float64(n)*p))] }
	fmt.Printf("refresh_token on loopback: workers=%d openid=%v duration=%s\n", *workers, *openid, elapsed.Round(time.Millisecond))
	fmt.Printf("requests=%d  throughput=%.0f req/s\n", n, float64(n)/elapsed.Seconds())
	fmt.Printf("latency p50=%s p90=%s p99=%s max=%s\n", pct(0.50), pct(0.90), pct(0.99), all[n-1])
	if *pid > 0 {
		fmt.Printf("server CPU per request=%.0f µs\n", float64(cpu1-cpu0)/float64(time.Microsecond)/float64(n))
	}
	failures.Range(func(k, _ any) bool {
		fmt.Fprintf(os.Stderr, "failure: %v\n", k)
		return true
	})
}

// cpuTime returns a process's user+system CPU time from /proc (0 without a pid).
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatalf("read server CPU time: %v", err)
	}
	// Fields after the command name (which may contain spaces) start after ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
