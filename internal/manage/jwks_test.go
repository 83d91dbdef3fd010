package manage

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

func testJWK(t testing.TB, key any, kid string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckJWKSKeepsOnlyWhatItChecked: members go-jose does not know are
// dropped, and the result is a set checkJWKS accepts again unchanged.
func TestCheckJWKSKeepsOnlyWhatItChecked(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var key map[string]any
	json.Unmarshal(testJWK(t, &ec.PublicKey, "k1"), &key)
	key["x-note"] = "dropped"
	raw, _ := json.Marshal(map[string]any{"keys": []any{key}, "extra": true})
	out, err := checkJWKS("jwks", raw)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("dropped")) || bytes.Contains(out, []byte("extra")) {
		t.Errorf("kept unchecked members: %s", out)
	}
	again, err := checkJWKS("jwks", out)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("the stored set checked again: %s, %v; want %s", again, err, out)
	}
}

// FuzzCheckJWKS: outside input never panics the check, every refusal is a
// FieldError on the field, and what is accepted holds no private member
// and is accepted again as it is.
func FuzzCheckJWKS(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add([]byte(`{"keys":[` + string(testJWK(f, &ec.PublicKey, "k")) + `]}`))
	f.Add([]byte(`{"keys":[` + string(testJWK(f, ec, "k")) + `]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"e"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA","kid":"s"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := checkJWKS("jwks", raw)
		if err != nil {
			var fe *storage.FieldError
			if !errors.As(err, &fe) || fe.Field != "jwks" {
				t.Fatalf("refusal %v is not a FieldError on jwks", err)
			}
			return
		}
		var set struct {
			Keys []map[string]json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(out, &set); err != nil || len(set.Keys) == 0 {
			t.Fatalf("accepted set %s: %v", out, err)
		}
		for _, k := range set.Keys {
			for _, m := range privateJWKMembers {
				if _, ok := k[m]; ok {
					t.Fatalf("accepted set holds %q: %s", m, out)
				}
			}
		}
		again, err := checkJWKS("jwks", out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("accepted set %s checked again: %s, %v", out, again, err)
		}
	})
}
