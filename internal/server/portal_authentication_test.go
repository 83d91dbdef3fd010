package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// orgKeys are orgID's authentication keys by kid.
func orgKeys(t testing.TB, e *env, orgID string) map[string]storage.AuthKey {
	t.Helper()
	list, _, err := e.srv.Manage.ListAuthKeys(context.Background(), "default", orgID, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]storage.AuthKey{}
	for _, k := range list {
		out[k.KID] = k
	}
	return out
}

// portalPublicPEM is key's public half as a PKIX PEM.
func portalPublicPEM(t testing.TB, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestPortalAuthenticationKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		org, err := e.srv.Store.GetOrganization(context.Background(), "default", orgID)
		if err != nil {
			t.Fatal(err)
		}
		const tab = "/portal/o/acme/authentication"

		// The Provider ID, with its copy button and what it is for.
		res, page := owner.get(tab)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("Authentication tab: %d\n%s", res.StatusCode, page)
		}
		if got := e2etest.ElementText(t, page, "provider-id"); got != org.ProviderID || org.ProviderID == "" {
			t.Errorf("Provider ID shown %q; want %q", got, org.ProviderID)
		}
		if !strings.Contains(page, `data-copy="provider-id"`) || !strings.Contains(page, "<code>iss</code>") {
			t.Errorf("Provider ID without a copy button or the iss explanation:\n%s", page)
		}

		// Generate a key of each algorithm: the private key is shown once
		// and downloads once, and it is the pair of the key listed.
		for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
			posted, landed, body := owner.submit(tab, "Generate key", url.Values{"alg": {alg}})
			if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+tab || !strings.Contains(body, "Authentication key created.") {
				t.Fatalf("generate %s: %d then %s\n%s", alg, posted.StatusCode, landed.Request.URL, body)
			}
			privPEM := e2etest.ElementText(t, body, "private-key")
			e2etest.Secrets.AddPEM("private key", privPEM)
			if !strings.Contains(body, "will not be shown again") || !strings.Contains(body, `data-copy="private-key"`) {
				t.Errorf("%s: the private key is shown without its warning or copy button", alg)
			}
			block, _ := pem.Decode([]byte(privPEM))
			if block == nil || block.Type != "PRIVATE KEY" {
				t.Fatalf("%s: the page shows no PKCS #8 PEM", alg)
			}
			priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatalf("%s: private key does not parse: %v", alg, err)
			}
			dl := e2etest.LinkTo(t, body, "Download private key")
			kid := strings.Split(strings.TrimPrefix(dl, "/t/default"+tab+"/keys/"), "/")[0]
			k, ok := orgKeys(t, e, orgID)[kid]
			if !ok || k.Alg != alg || k.Status != storage.AuthKeyActive {
				t.Fatalf("%s: key %s listed as %+v (found %v); want an active %s key", alg, kid, k, ok, alg)
			}
			var jwk jose.JSONWebKey
			if err := json.Unmarshal(k.PublicJWK, &jwk); err != nil {
				t.Fatal(err)
			}
			if pub, ok := priv.(crypto.Signer); !ok || !pub.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(jwk.Key) {
				t.Errorf("%s: the private key shown is not the pair of the key listed", alg)
			}
			if !strings.Contains(body, `id="key-`+kid+`"`) {
				t.Errorf("%s: the key %s is not in the list", alg, kid)
			}
			// Reloading the page shows the key no more.
			if _, again := owner.b.Get(landed.Request.URL.String()); strings.Contains(again, "PRIVATE KEY") || strings.Contains(again, "Download private key") {
				t.Errorf("%s: the private key is shown a second time", alg)
			}
			// The download works once.
			resp, err := owner.b.Client.Get(owner.url(strings.TrimPrefix(dl, "/t/default")))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(got)) != privPEM ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s download: %d %q; want 200, the PEM, as an attachment, not cached", alg, resp.StatusCode, resp.Header)
			}
			resp, body2 := owner.b.Get(owner.url(strings.TrimPrefix(dl, "/t/default")))
			if resp.StatusCode != http.StatusGone || strings.Contains(body2, "PRIVATE KEY") {
				t.Errorf("%s second download: %d; want 410", alg, resp.StatusCode)
			}
		}

		// Register public keys: PEM and JWK.
		ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		e2etest.Secrets.AddPrivateKey(ecKey)
		before := len(orgKeys(t, e, orgID))
		posted, _, body := owner.submit(tab, "Register public key", url.Values{"public_key": {portalPublicPEM(t, ecKey)}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "Public key registered.") {
			t.Fatalf("register PEM: %d\n%s", posted.StatusCode, body)
		}
		_, edKey, _ := ed25519.GenerateKey(rand.Reader)
		e2etest.Secrets.AddPrivateKey(edKey)
		jwkJSON, _ := json.Marshal(jose.JSONWebKey{Key: edKey.Public(), KeyID: "acme-idp-2024", Algorithm: "EdDSA", Use: "sig"})
		posted, _, body = owner.submit(tab, "Register public key", url.Values{"public_key": {string(jwkJSON)}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "Public key registered.") || !strings.Contains(body, `id="key-acme-idp-2024"`) {
			t.Fatalf("register JWK: %d\n%s", posted.StatusCode, body)
		}
		keys := orgKeys(t, e, orgID)
		if len(keys) != before+2 || keys["acme-idp-2024"].Alg != "EdDSA" {
			t.Errorf("keys after registering two: %d, JWK key %+v", len(keys), keys["acme-idp-2024"])
		}
		var ecAlg int
		for _, k := range keys {
			if k.Alg == "ES256" {
				ecAlg++
			}
		}
		if ecAlg != 2 {
			t.Errorf("%d ES256 keys; want the generated and the registered one", ecAlg)
		}

		// Bad keys come back at the field, nothing registered; a private
		// key pasted by mistake is not shown again.
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		der, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
		privText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		e2etest.Secrets.AddPEM("private key", privText)
		for _, c := range []struct{ name, value, want string }{
			{"garbage", "not a key at all", "not a key at all</textarea>"},
			{"empty", "", "Paste a public key"},
			{"private key", privText, `name="public_key" rows="6" spellcheck="false" aria-describedby="register-key-hint register-key-error" aria-invalid="true"></textarea>`},
			{"taken kid", string(jwkJSON), "registered already"},
		} {
			posted, landed, body := owner.submit(tab, "Register public key", url.Values{"public_key": {c.value}})
			if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+tab ||
				!strings.Contains(body, `id="register-key-error"`) || !strings.Contains(body, c.want) {
				t.Errorf("register %s: %d then %s; want 303 back with the error at the field and %q:\n%s", c.name, posted.StatusCode, landed.Request.URL, c.want, body)
			}
			if strings.Contains(body, "PRIVATE KEY") {
				t.Errorf("register %s: a private key is shown on the page", c.name)
			}
		}
		if n := len(orgKeys(t, e, orgID)); n != before+2 {
			t.Errorf("refused keys were registered: %d keys; want %d", n, before+2)
		}

		// Revoke, after its confirmation page.
		res, page = owner.get(tab + "/keys/acme-idp-2024/revoke")
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "refused from now on") {
			t.Fatalf("revoke confirmation: %d\n%s", res.StatusCode, page)
		}
		posted, landed, body := owner.submit(tab+"/keys/acme-idp-2024/revoke", "Revoke key", nil)
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+tab || !strings.Contains(body, "Authentication key revoked.") {
			t.Fatalf("revoke: %d then %s\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if k := orgKeys(t, e, orgID)["acme-idp-2024"]; k.Status != storage.AuthKeyRevoked || k.RevokedAt.IsZero() {
			t.Errorf("revoked key: %+v; want status revoked", k)
		}
		if row := fragmentFrom(body, `id="key-acme-idp-2024"`, "</tr>"); !strings.Contains(row, `badge warn">revoked`) || strings.Contains(row, "/revoke") {
			t.Errorf("the list does not show the key revoked:\n%s", row)
		}
		// Again: refused with a message, still revoked.
		posted, _, body = owner.postWithToken(tab+"/keys/acme-idp-2024/revoke", nil)
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "revoked already") {
			t.Errorf("second revoke: %d; want 303 with the refusal:\n%s", posted.StatusCode, body)
		}
		// A kid the organization does not have, and another organization's
		// key: 404 on the page and the form, and that key stays active.
		other := e.organization(t, "Globex")
		theirs, err := e.srv.Manage.CreateAuthKey(context.Background(), "default", manage.Actor{ID: "test"}, other.ID, manage.AuthKeyRequest{PublicKeyPEM: portalPublicPEM(t, ecKey)})
		if err != nil {
			t.Fatal(err)
		}
		for _, kid := range []string{"nope", theirs.KID} {
			if res, _ := owner.get(tab + "/keys/" + kid + "/revoke"); res.StatusCode != http.StatusNotFound {
				t.Errorf("revoke page of kid %s: %d; want 404", kid, res.StatusCode)
			}
			if posted, _, _ := owner.postWithToken(tab+"/keys/"+kid+"/revoke", nil); posted.StatusCode != http.StatusNotFound {
				t.Errorf("revoke of kid %s: %d; want 404", kid, posted.StatusCode)
			}
		}
		if k := orgKeys(t, e, other.ID)[theirs.KID]; k.Status != storage.AuthKeyActive {
			t.Errorf("another organization's key after the refused revoke: %+v", k)
		}
		// A download link that was never issued is gone, not an error.
		if res, _ := owner.get(tab + "/keys/acme-idp-2024/private.pem?reveal=x"); res.StatusCode != http.StatusGone {
			t.Errorf("download without a reveal key: %d; want 410", res.StatusCode)
		}
	})
}
