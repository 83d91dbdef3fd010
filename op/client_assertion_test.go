package op

import (
	"testing"
)

// FuzzParseClientAssertion: a client_assertion is outside input read before
// the client is known. Parsing must never panic, and anything it accepts
// names its client as both issuer and subject with an allowed algorithm.
func FuzzParseClientAssertion(f *testing.F) {
	for _, s := range []string{
		"",
		"not.a.jwt",
		"eyJhbGciOiJub25lIn0.eyJpc3MiOiJjIiwic3ViIjoiYyJ9.",
		"eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJjIiwic3ViIjoiYyJ9.c2ln",
		"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJjIiwic3ViIjoiYyJ9.c2ln",
		"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjIiwic3ViIjoiZCJ9.c2ln",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		a, err := parseClientAssertion(raw)
		if err != nil {
			return
		}
		if a.clientID == "" || len(a.tok.Headers) != 1 {
			t.Fatalf("accepted %q: client %q, %d headers", raw, a.clientID, len(a.tok.Headers))
		}
		alg := a.tok.Headers[0].Algorithm
		ok := false
		for _, x := range assertionAlgs {
			ok = ok || string(x) == alg
		}
		if !ok {
			t.Fatalf("accepted algorithm %q", alg)
		}
	})
}
