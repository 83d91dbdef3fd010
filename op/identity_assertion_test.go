package op

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/orgid/orgid/storage"
)

// FuzzVerifyIdentityAssertion feeds outside input to the identity-token
// verifier: it must never panic, must refuse with invalid_grant, and must
// never accept a token it did not see signed by the key.
func FuzzVerifyIdentityAssertion(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	jwk, err := jose.JSONWebKey{Key: key.Public(), KeyID: "k1", Algorithm: "ES256"}.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	org := storage.Organization{ID: "org_1", ProviderID: "prv_1"}
	lookup := func(_ context.Context, kid string) (storage.AuthKey, storage.Organization, error) {
		if kid != "k1" {
			return storage.AuthKey{}, storage.Organization{}, storage.ErrNotFound
		}
		return storage.AuthKey{KID: "k1", Alg: "ES256", PublicJWK: jwk, Status: storage.AuthKeyActive}, org, nil
	}
	now := time.Unix(1_800_000_000, 0)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWS"))
	if err != nil {
		f.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": "prv_1", "prn": "u", "nce": "n", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	jws, err := signer.Sign(payload)
	if err != nil {
		f.Fatal(err)
	}
	valid, _ := jws.CompactSerialize()
	if _, err := verifyIdentityAssertion(context.Background(), valid, "https://issuer", now, lookup); err != nil {
		f.Fatalf("seed does not verify: %v", err)
	}
	f.Add(valid)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.e30.")
	f.Add(valid + "x")
	f.Fuzz(func(t *testing.T, raw string) {
		a, err := verifyIdentityAssertion(context.Background(), raw, "https://issuer", now, lookup)
		if err != nil {
			if oe, ok := err.(*oidc.Error); !ok || oe.ErrorType != oidc.InvalidGrant {
				t.Fatalf("refusal is not invalid_grant: %v", err)
			}
			return
		}
		if a.subject == "" || a.nonce == "" || a.org.ID != "org_1" {
			t.Fatalf("accepted without subject, nonce or organization: %+v", a)
		}
	})
}
