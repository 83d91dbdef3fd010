package login

import (
	"testing"

	"github.com/orgid/orgid/keys"
)

// testSealer is a real sealer under a fixed test master key.
func testSealer(t testing.TB) *keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
