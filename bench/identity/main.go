// Command identity is the load generator of bench/identity.sh: WORKERS
// goroutines each loop, for DURATION, over one full identity-token round
// (DESIGN §3 "Identity tokens"): ask orgid for a nonce, sign an identity
// token with the organization's authentication key, trade it at the token
// endpoint for an organization token. It prints rounds per second and the
// latency percentiles of the exchange request (and of the nonce request).
//
// orgid hands one client at most 600 nonces a minute, so the rounds go
// round-robin over the clients listed in -clients (one "client_id
// client_secret" a line); a 429 is counted, not retried.
package main

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

type clientCred struct{ id, secret string }

type stats struct {
	rounds, failures, limited int
	exchange, nonce           []time.Duration
	firstErr                  string
}

func main() {
	issuer := flag.String("issuer", "", "orgid issuer, e.g. http://127.0.0.1:18083/t/default")
	clientsPath := flag.String("clients", "", `file of "client_id client_secret" lines`)
	keyPath := flag.String("key", "", "authentication key, private PEM")
	kid := flag.String("kid", "", "the key's kid")
	providerID := flag.String("provider-id", "", "the organization's provider_id")
	workers := flag.Int("workers", 16, "concurrent workers")
	duration := flag.Duration("duration", 10*time.Second, "how long to run")
	subjects := flag.Int("subjects", 1000, "distinct users (sub) to sign in, round-robin; the first use of each creates the user")
	scope := flag.String("scope", "openid offline_access", "scope of the exchange")
	flag.Parse()
	if *issuer == "" || *clientsPath == "" || *keyPath == "" || *kid == "" || *providerID == "" {
		fmt.Fprintln(os.Stderr, "identity: -issuer, -clients, -key, -kid and -provider-id are required")
		os.Exit(2)
	}
	clients, err := readClients(*clientsPath)
	if err != nil {
		fatal(err)
	}
	key, alg, err := readKey(*keyPath)
	if err != nil {
		fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", *kid))
	if err != nil {
		fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: *workers * 2, MaxIdleConnsPerHost: *workers * 2}, Timeout: 30 * time.Second}

	var next, subNext atomic.Uint64
	deadline := time.Now().Add(*duration)
	results := make([]stats, *workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *workers {
		wg.Add(1)
		go func(st *stats) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				c := clients[next.Add(1)%uint64(len(clients))]
				sub := fmt.Sprintf("bench-user-%d", subNext.Add(1)%uint64(*subjects))
				if err := round(hc, signer, st, c, *issuer, *providerID, sub, *scope); err != nil {
					st.failures++
					if errors.Is(err, errLimited) {
						st.limited++
					} else if st.firstErr == "" {
						st.firstErr = err.Error()
					}
				}
			}
		}(&results[w])
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all stats
	for _, st := range results {
		all.rounds += st.rounds
		all.failures += st.failures
		all.limited += st.limited
		all.exchange = append(all.exchange, st.exchange...)
		all.nonce = append(all.nonce, st.nonce...)
		if all.firstErr == "" {
			all.firstErr = st.firstErr
		}
	}
	fmt.Printf("RESULT rps=%.0f exchange_p50_ms=%.2f exchange_p99_ms=%.2f nonce_p50_ms=%.2f nonce_p99_ms=%.2f rounds=%d failures=%d rate_limited=%d\n",
		float64(all.rounds)/elapsed.Seconds(), ms(pct(all.exchange, 50)), ms(pct(all.exchange, 99)),
		ms(pct(all.nonce, 50)), ms(pct(all.nonce, 99)), all.rounds, all.failures, all.limited)
	if all.firstErr != "" {
		fmt.Fprintln(os.Stderr, "identity: first failure:", all.firstErr)
	}
	if all.rounds == 0 {
		os.Exit(1)
	}
}

var errLimited = errors.New("nonce rate limit (429)")

// round is one nonce + sign + exchange; only a round whose exchange gave
// an access token counts.
func round(hc *http.Client, signer jose.Signer, st *stats, c clientCred, issuer, providerID, sub, scope string) error {
	t0 := time.Now()
	status, body, err := post(hc, issuer+"/identity/nonces", c, url.Values{})
	if err != nil {
		return err
	}
	if status == http.StatusTooManyRequests {
		return errLimited
	}
	var n struct {
		Nonce string `json:"nonce"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &n) != nil || n.Nonce == "" {
		return fmt.Errorf("nonce: %d %s", status, body)
	}
	st.nonce = append(st.nonce, time.Since(t0))

	now := time.Now()
	payload, _ := json.Marshal(map[string]any{
		"iss": providerID, "sub": sub, "nonce": n.Nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": sub + "@idp.bench.test", "email_verified": true, "name": sub,
	})
	jws, err := signer.Sign(payload)
	if err != nil {
		return err
	}
	assertion, err := jws.CompactSerialize()
	if err != nil {
		return err
	}

	t1 := time.Now()
	status, body, err = post(hc, issuer+"/oauth/token", c, url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}, "scope": {scope},
	})
	if err != nil {
		return err
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &t) != nil || t.AccessToken == "" {
		return fmt.Errorf("exchange: %d %s", status, body)
	}
	st.exchange = append(st.exchange, time.Since(t1))
	st.rounds++
	return nil
}

func post(hc *http.Client, u string, c clientCred, form url.Values) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func readClients(path string) ([]clientCred, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []clientCred
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) == 2 {
			out = append(out, clientCred{fs[0], fs[1]})
		}
	}
	if len(out) == 0 {
		return nil, errors.New(path + ": no clients")
	}
	return out, sc.Err()
}

func readKey(path string) (crypto.Signer, jose.SignatureAlgorithm, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, "", errors.New(path + ": no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, "", err
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k, jose.ES256, nil
	case *rsa.PrivateKey:
		return k, jose.RS256, nil
	case ed25519.PrivateKey:
		return k, jose.EdDSA, nil
	}
	return nil, "", fmt.Errorf("%s: unsupported key type %T", path, key)
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "identity:", err)
	os.Exit(1)
}
