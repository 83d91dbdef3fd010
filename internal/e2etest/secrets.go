package e2etest

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// The secret-leak check (issue 9): every secret the end-to-end tests see
// is registered in Secrets with its kind, every test server's log also
// goes to LogCapture, and after the run the capture is scanned for every
// registered value. The values are registered where the tests meet them
// (mostly by Record, on the wire), so that a test added later is covered
// without thinking about it.

// Secrets holds every secret the tests of this process have seen.
var Secrets = NewSecretSet()

// LogCapture receives the log of every test server of this process.
var LogCapture = &Buffer{}

// MinSecretLen is the shortest value registered: shorter ones (six-digit
// TOTP codes, a deliberately wrong "x") would match innocent log text.
// Every secret orgid issues is far longer.
const MinSecretLen = 8

// PEMMarker is in every PEM-encoded private key: the scan looks for it
// whatever key it belongs to, including keys no test registered.
const PEMMarker = "PRIVATE KEY"

// SecretSet is a set of secret values, each with its kind ("password",
// "refresh token", …). Safe for concurrent use.
type SecretSet struct {
	mu     sync.Mutex
	values map[string]string // value → kind
}

// NewSecretSet returns an empty set.
func NewSecretSet() *SecretSet { return &SecretSet{values: map[string]string{}} }

// Add registers value as a secret of kind; values shorter than
// MinSecretLen are ignored. A value with characters that URL encoding
// changes is registered in its encoded form too: logs print URLs.
func (s *SecretSet) Add(kind, value string) {
	value = strings.TrimSpace(value)
	if len(value) < MinSecretLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[value]; ok {
		return
	}
	s.values[value] = kind
	if q := url.QueryEscape(value); q != value {
		s.values[q] = kind + " (URL-encoded)"
	}
}

// AddPEM registers a PEM-encoded private key: the whole text and every
// line of its base64 body, any of which in a log is the key leaking.
func (s *SecretSet) AddPEM(kind, text string) {
	s.Add(kind, text)
	if block, _ := pem.Decode([]byte(text)); block == nil {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "-----") {
			s.Add(kind, line)
		}
	}
}

// Has returns the kind value was registered with.
func (s *SecretSet) Has(value string) (kind string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind, ok = s.values[value]
	return kind, ok
}

// Len returns the number of values registered.
func (s *SecretSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

// Kinds counts the values registered by kind.
func (s *SecretSet) Kinds() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, k := range s.values {
		out[k]++
	}
	return out
}

// Leak is a secret found in a log.
type Leak struct {
	Kind string
	// Excerpt is the log around the secret, the secret itself replaced
	// by its kind and first characters: a failure report must not
	// spread the secret further.
	Excerpt string
}

func (l Leak) String() string { return l.Kind + ": " + l.Excerpt }

// Scan returns every registered secret that occurs in log, and every
// PEM private-key marker. Each value is reported once, at its first
// occurrence.
//
// A log of a whole suite is tens of megabytes and the secrets number in
// the thousands, so instead of one strings.Contains per secret the scan
// indexes the secrets by their first MinSecretLen bytes and looks each
// position of the log up once.
func (s *SecretSet) Scan(log string) []Leak {
	s.mu.Lock()
	byPrefix := make(map[string][]string, len(s.values))
	kinds := make(map[string]string, len(s.values))
	for v, k := range s.values {
		p := v[:MinSecretLen]
		byPrefix[p] = append(byPrefix[p], v)
		kinds[v] = k
	}
	s.mu.Unlock()

	var leaks []Leak
	found := map[string]bool{}
	for i := 0; i+MinSecretLen <= len(log); i++ {
		for _, v := range byPrefix[log[i:i+MinSecretLen]] {
			if !found[v] && strings.HasPrefix(log[i:], v) {
				found[v] = true
				leaks = append(leaks, Leak{Kind: kinds[v], Excerpt: excerpt(log, i, len(v), kinds[v], v)})
			}
		}
	}
	if i := strings.Index(log, PEMMarker); i >= 0 {
		leaks = append(leaks, Leak{Kind: "private key (PEM)", Excerpt: excerpt(log, i, 0, "", "")})
	}
	sort.Slice(leaks, func(a, b int) bool { return leaks[a].Kind < leaks[b].Kind })
	return leaks
}

// excerpt returns the line of log around [i, i+n), that range replaced
// by a placeholder naming kind and the first characters of value.
func excerpt(log string, i, n int, kind, value string) string {
	start := strings.LastIndexByte(log[:i], '\n') + 1
	end := strings.IndexByte(log[i+n:], '\n')
	if end < 0 {
		end = len(log)
	} else {
		end += i + n
	}
	before, after := log[start:i], log[i+n:end]
	if len(before) > 80 {
		before = "…" + before[len(before)-80:]
	}
	if len(after) > 80 {
		after = after[:80] + "…"
	}
	mid := ""
	if n > 0 {
		mid = fmt.Sprintf("<%s %s…>", kind, value[:4])
	}
	return before + mid + after
}

// AddPrivateKey registers a private key a test made itself (an identity
// service's signing key, say) in its PKCS #8 PEM form: orgid never
// receives it, and the scan proves it never logs it either.
func (s *SecretSet) AddPrivateKey(key crypto.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return
	}
	s.AddPEM("private key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
}
