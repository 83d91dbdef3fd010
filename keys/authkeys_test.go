package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestGenerateAuthKey(t *testing.T) {
	for _, tc := range []struct{ alg, want string }{{"", ES256}, {ES256, ES256}, {RS256, RS256}, {EdDSA, EdDSA}} {
		t.Run(tc.want+"/"+tc.alg, func(t *testing.T) {
			privPEM, jwkJSON, kid, err := GenerateAuthKey(tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			block, rest := pem.Decode(privPEM)
			if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
				t.Fatalf("private key is not one PKCS#8 PEM block: %s", privPEM)
			}
			priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			var k jose.JSONWebKey
			if err := k.UnmarshalJSON(jwkJSON); err != nil {
				t.Fatal(err)
			}
			if !k.IsPublic() || k.KeyID != kid || k.Algorithm != tc.want || k.Use != "sig" || !strings.HasPrefix(kid, "key_") {
				t.Errorf("public JWK %s (kid %q)", jwkJSON, kid)
			}
			if pub := priv.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }); !pub.Equal(k.Key) {
				t.Error("the public JWK is not the private key's")
			}
			// The public JWK registers as it is, keeping its kid.
			again, alg, kid2, err := ParsePublicAuthKey(jwkJSON, "")
			if err != nil || alg != tc.want || kid2 != kid || !bytes.Equal(again, jwkJSON) {
				t.Errorf("ParsePublicAuthKey(own JWK) = %s, %q, %q, %v", again, alg, kid2, err)
			}
		})
	}
	if _, _, _, err := GenerateAuthKey("HS256"); !isAuthKeyErr(err, "alg") {
		t.Errorf("GenerateAuthKey(HS256): %v", err)
	}
}

func isAuthKeyErr(err error, field string) bool {
	var ke *AuthKeyError
	return errors.As(err, &ke) && ke.Field == field
}

func pkixPEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func jwkOf(t testing.TB, key any, kid, alg, use string) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: use})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParsePublicAuthKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPrivPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsa2048.PublicKey)}))

	for _, tc := range []struct {
		name, in, alg string
		wantAlg       string // "" for a refusal
		wantField     string
		wantKID       string // "" for a random one
	}{
		{name: "EC PEM", in: pkixPEM(t, &ec.PublicKey), wantAlg: ES256},
		{name: "EC PEM with alg", in: pkixPEM(t, &ec.PublicKey), alg: ES256, wantAlg: ES256},
		{name: "RSA PEM", in: pkixPEM(t, &rsa2048.PublicKey), wantAlg: RS256},
		{name: "RSA PKCS1 PEM", in: pkcs1, wantAlg: RS256},
		{name: "Ed25519 PEM", in: "\n  " + pkixPEM(t, edPub) + "\n", wantAlg: EdDSA},
		{name: "EC JWK", in: jwkOf(t, &ec.PublicKey, "acme-1", "", ""), wantAlg: ES256, wantKID: "acme-1"},
		{name: "RSA JWK with alg and use", in: jwkOf(t, &rsa2048.PublicKey, "r.2~x_y", RS256, "sig"), alg: RS256, wantAlg: RS256, wantKID: "r.2~x_y"},
		{name: "Ed25519 JWK without kid", in: jwkOf(t, edPub, "", "", ""), wantAlg: EdDSA},

		{name: "private PEM", in: ecPrivPEM, wantField: "key"},
		{name: "private JWK", in: jwkOf(t, ec, "k", "", ""), wantField: "key"},
		{name: "private Ed25519 JWK", in: jwkOf(t, edPriv, "k", "", ""), wantField: "key"},
		{name: "HMAC JWK", in: `{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","alg":"HS256","kid":"h"}`, wantField: "key"},
		{name: "RSA 1024", in: pkixPEM(t, &rsa1024.PublicKey), wantField: "key"},
		{name: "RSA 1024 JWK", in: jwkOf(t, &rsa1024.PublicKey, "k", "", ""), wantField: "key"},
		{name: "P-384", in: pkixPEM(t, &ec384.PublicKey), wantField: "key"},
		{name: "alg not the key's", in: pkixPEM(t, &ec.PublicKey), alg: RS256, wantField: "alg"},
		{name: "HS256 asked", in: pkixPEM(t, &ec.PublicKey), alg: "HS256", wantField: "alg"},
		{name: "none asked", in: pkixPEM(t, &ec.PublicKey), alg: "none", wantField: "alg"},
		{name: "JWK alg not the key's", in: jwkOf(t, &ec.PublicKey, "k", RS256, ""), wantField: "key"},
		{name: "JWK use enc", in: jwkOf(t, &ec.PublicKey, "k", "", "enc"), wantField: "key"},
		{name: "kid with a slash", in: jwkOf(t, &ec.PublicKey, "a/b", "", ""), wantField: "key"},
		{name: "kid too long", in: jwkOf(t, &ec.PublicKey, strings.Repeat("k", 129), "", ""), wantField: "key"},
		{name: "empty kid", in: `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":""}`, wantField: "key"},
		{name: "two PEM blocks", in: pkixPEM(t, &ec.PublicKey) + pkixPEM(t, edPub), wantField: "key"},
		{name: "certificate", in: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", wantField: "key"},
		{name: "garbage", in: "hello", wantField: "key"},
		{name: "empty", in: "  ", wantField: "key"},
		{name: "bad JSON", in: `{"kty":`, wantField: "key"},
		{name: "too large", in: "{" + strings.Repeat(" ", maxAuthKeyBytes) + "}", wantField: "key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, alg, kid, err := ParsePublicAuthKey([]byte(tc.in), tc.alg)
			if tc.wantAlg == "" {
				if !isAuthKeyErr(err, tc.wantField) {
					t.Fatalf("err = %v, want an AuthKeyError on %s", err, tc.wantField)
				}
				if strings.Contains(err.Error(), tc.in) && len(tc.in) > 8 {
					t.Errorf("the refusal echoes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if alg != tc.wantAlg || (tc.wantKID != "" && kid != tc.wantKID) || (tc.wantKID == "" && !strings.HasPrefix(kid, "key_")) {
				t.Errorf("alg %q kid %q", alg, kid)
			}
			var k jose.JSONWebKey
			if err := k.UnmarshalJSON(out); err != nil || !k.IsPublic() || k.KeyID != kid || k.Algorithm != alg || k.Use != "sig" {
				t.Errorf("stored JWK %s: %v", out, err)
			}
		})
	}
}

// FuzzParsePublicAuthKey: whatever an organization uploads, the parser
// does not panic, and what it accepts is a public key re-encoded with its
// algorithm and kid.
func FuzzParsePublicAuthKey(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	f.Add([]byte(pkixPEM(f, &ec.PublicKey)), "")
	f.Add([]byte(pkixPEM(f, edPub)), EdDSA)
	f.Add([]byte(jwkOf(f, &ec.PublicKey, "k1", ES256, "sig")), ES256)
	f.Add([]byte(jwkOf(f, ec, "k1", "", "")), "")
	f.Add([]byte(`{"kty":"oct","k":"AAAA"}`), "HS256")
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"), "RS256")
	f.Fuzz(func(t *testing.T, in []byte, alg string) {
		out, gotAlg, kid, err := ParsePublicAuthKey(in, alg)
		if err != nil {
			var ke *AuthKeyError
			if !errors.As(err, &ke) {
				t.Fatalf("refusal of another type: %T %v", err, err)
			}
			return
		}
		if alg != "" && gotAlg != alg {
			t.Fatalf("asked %q, got %q", alg, gotAlg)
		}
		if err := checkAuthKID(kid); err != nil {
			t.Fatalf("kid %q: %v", kid, err)
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(out); err != nil || !k.IsPublic() || k.Algorithm != gotAlg || k.KeyID != kid {
			t.Fatalf("accepted %q as %s: %v", in, out, err)
		}
		if bytes.Contains(out, []byte(`"d"`)) {
			t.Fatalf("private material in %s", out)
		}
	})
}
