package keys

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

// verify parses token as go-jose would for a relying party and checks its
// header and signature against key.
func verify(t *testing.T, token string, key *jose.JSONWebKey, alg, kid, typ string, payload []byte) {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != alg || h.KeyID != kid || h.ExtraHeaders["typ"] != typ {
		t.Errorf("header alg=%q kid=%q typ=%v, want %q %q %q", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"], alg, kid, typ)
	}
	got, err := jws.Verify(key)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if string(got) != string(payload) {
		t.Errorf("payload %q, want %q", got, payload)
	}
}

func TestSignVerify(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		m := NewManager(store, newTestSealer(t))
		if err := m.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		set, err := m.KeySet(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) != 6 {
			t.Errorf("KeySet has %d keys, want 6", len(set.Keys))
		}
		for _, k := range set.Keys {
			if !k.IsPublic() || k.Use != "sig" || k.Algorithm == "" || k.KeyID == "" || !k.Valid() {
				t.Errorf("published key %s: public=%v use=%q alg=%q", k.KeyID, k.IsPublic(), k.Use, k.Algorithm)
			}
		}
		payload := []byte(`{"iss":"https://issuer.test/t/acme","sub":"usr_1"}`)
		for _, alg := range SupportedAlgorithms() {
			for _, typ := range []string{TypeJWT, TypeAccessToken} {
				t.Run(alg+"/"+typ, func(t *testing.T) {
					s, err := m.Signer(ctx, tenant, alg)
					if err != nil {
						t.Fatal(err)
					}
					if string(s.Algorithm()) != alg {
						t.Errorf("Algorithm() = %s", s.Algorithm())
					}
					if s.KeyID() != kidIn(t, store, tenant, alg, storage.KeyActive) {
						t.Error("signer does not use the active key")
					}
					token, err := s.Sign(payload, typ)
					if err != nil {
						t.Fatal(err)
					}
					fromSet := set.Key(s.KeyID())
					if len(fromSet) != 1 {
						t.Fatalf("KeySet has %d keys with kid %s", len(fromSet), s.KeyID())
					}
					verify(t, token, &fromSet[0], alg, s.KeyID(), typ, payload)
					pub, err := m.PublicKey(ctx, tenant, s.KeyID())
					if err != nil {
						t.Fatal(err)
					}
					verify(t, token, pub, alg, s.KeyID(), typ, payload)
				})
			}
		}
	})
}

func TestPrivateKeysAreSealed(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		sealer := newTestSealer(t)
		m := NewManager(store, sealer)
		if err := m.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		recs, err := store.ListSigningKeys(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			der, err := sealer.Open(rec.PrivateKey, sealAAD(tenant, rec.ID))
			if err != nil {
				t.Fatalf("%s: stored private key does not open: %v", rec.ID, err)
			}
			if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
				t.Fatalf("%s: sealed value is not PKCS#8: %v", rec.ID, err)
			}
			if bytes.Contains(rec.PrivateKey, der) || bytes.Contains(rec.PrivateKey, der[len(der)-32:]) {
				t.Errorf("%s: the stored private key contains its DER", rec.ID)
			}
			if _, err := x509.ParsePKCS8PrivateKey(rec.PrivateKey); err == nil {
				t.Errorf("%s: the stored private key parses as PKCS#8", rec.ID)
			}
			// The sealed key belongs to its row only.
			if _, err := sealer.Open(rec.PrivateKey, sealAAD("other", rec.ID)); err == nil {
				t.Errorf("%s: opens under another tenant", rec.ID)
			}
			var jwk map[string]any
			if err := json.Unmarshal(rec.PublicJWK, &jwk); err != nil {
				t.Fatal(err)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := jwk[private]; ok {
					t.Errorf("%s: public JWK has private member %q", rec.ID, private)
				}
			}
			if jwk["use"] != "sig" || jwk["alg"] != rec.Algorithm || jwk["kid"] != rec.ID {
				t.Errorf("%s: public JWK %v lacks use/alg/kid", rec.ID, jwk)
			}
		}

		// A replica with another master key cannot sign.
		wrong := NewManager(store, newTestSealer(t))
		if _, err := wrong.Signer(ctx, tenant, ES256); !errors.Is(err, ErrOpen) {
			t.Errorf("Signer with the wrong master key: err = %v, want ErrOpen", err)
		}
	})
}
