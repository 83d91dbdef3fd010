// Command bare is the reference point of bench/m2m.sh: an HTTP handler that
// does only what a client-credentials token needs at the least — parse the
// form, check a SHA-256 client secret, sign a JWT of the same size as
// orgid's organization token — so that orgid's throughput can be read
// against the ceiling of this machine, with the same load generator.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	alg := flag.String("alg", "ES256", "ES256 or RS256")
	clientID := flag.String("client-id", "bench", "client ID")
	secret := flag.String("client-secret", "bench-secret", "client secret")
	flag.Parse()

	var key any
	switch *alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			log.Fatal(err)
		}
		key = k
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			log.Fatal(err)
		}
		key = k
	default:
		log.Fatalf("-alg %q: ES256 or RS256", *alg)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(*alg), Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		log.Fatal(err)
	}
	want := sha256.Sum256([]byte(*secret))

	http.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, sec, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(sec))
		if !ok || id != *clientID || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		org := r.PostFormValue("organization_id")
		now := time.Now().Unix()
		// The claims of an orgid organization token of an m2m app.
		claims, _ := json.Marshal(map[string]any{
			"iss": "http://127.0.0.1:18090/t/default", "sub": id, "aud": []string{"urn:orgid:organization:" + org},
			"exp": now + 3600, "iat": now, "jti": "bare." + time.Now().Format("150405.000000000"), "client_id": id,
			"scope": "read:members read:organization read:roles write:members", "organization_id": org,
			"organization_roles": []string{"admin"},
		})
		jws, err := signer.Sign(claims)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": "read:members"})
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
