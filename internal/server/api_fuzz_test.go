package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage"
)

// fuzzAPITarget is one management API operation the fuzzer calls; the
// path's {org}, {user} and {app} are replaced by records the fuzzer made.
type fuzzAPITarget struct {
	method, path string
	// body is a valid body for the seeds; "" for operations that read
	// none (lists, whose query the fuzzer fills instead).
	body string
}

// fuzzAPITargets are the operations that decode a JSON body, and lists
// whose page_size and page_token the fuzzer sets. DELETE is left out so
// that the records the paths name survive the run, and POST /tenants for
// its cost (every tenant generates signing keys): its body goes through
// the same decode as every other.
var fuzzAPITargets = []fuzzAPITarget{
	{http.MethodPost, "/admin/organizations", `{"name":"Acme","slug":"acme-x","description":"d","custom_data":{"a":1},"mfa_policy":"configured"}`},
	{http.MethodPatch, "/admin/organizations/{org}", `{"name":"Renamed","logo_url":"https://logo.example/a.png","mfa_required":true}`},
	{http.MethodPut, "/admin/organizations/{org}", `{"name":"Put","slug":"put-x"}`},
	{http.MethodPost, "/admin/organizations/{org}/members", `{"user_id":"{user}","roles":["admin"]}`},
	{http.MethodPut, "/admin/organizations/{org}/members/{user}/roles", `{"roles":["member"]}`},
	{http.MethodPost, "/admin/organizations/{org}/roles", `{"name":"auditor","description":"reads","permissions":["read:invoices"]}`},
	{http.MethodPost, "/admin/organizations/{org}/applications", `{"application_id":"{app}","roles":["member"]}`},
	{http.MethodPut, "/admin/organizations/{org}/applications/{app}/roles", `{"roles":["admin"]}`},
	{http.MethodPost, "/admin/organizations/{org}/keys", `{"alg":"ES256","public_jwk":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}`},
	{http.MethodPut, "/admin/organizations/{org}/jit/email-domains", `{"email_domains":["acme.example"]}`},
	{http.MethodPut, "/admin/organizations/{org}/jit/roles", `{"roles":["member"]}`},
	{http.MethodPost, "/admin/organizations/{org}/invitations", `{"email":"new@acme.example","roles":["member"],"expires_in":3600}`},
	{http.MethodPost, "/admin/organization-permissions", `{"name":"write:invoices","description":"d"}`},
	{http.MethodPost, "/admin/organization-roles", `{"name":"clerk","permissions":["read:invoices"]}`},
	{http.MethodPost, "/admin/users", `{"email":"user@example.test","password":"a long enough password","name":"U","email_verified":true}`},
	{http.MethodPatch, "/admin/users/{user}", `{"name":"Renamed","email_verified":false}`},
	{http.MethodPost, "/admin/applications", `{"name":"Web","type":"web","redirect_uris":["https://app.example/cb"],"id_token_signed_response_alg":"RS256"}`},
	{http.MethodGet, "/admin/organizations", ""},
	{http.MethodGet, "/admin/organizations/{org}/members", ""},
	{http.MethodGet, "/admin/applications", ""},
	{http.MethodGet, "/admin/audit-log", ""},
	{http.MethodGet, "/admin/organization-permissions", ""},
	{http.MethodGet, "/admin/tenants", ""},
	{http.MethodGet, "/admin/users/{user}/organizations", ""},
}

// FuzzManagementAPI sends fuzzed JSON bodies (and, to the lists, fuzzed
// page_size and page_token) to the real management API with an admin
// token, in-process on the embedded stores. Whatever arrives, the API
// never answers 5xx, every 4xx is problem+json of its own status, and a
// body that is not JSON is never accepted.
//
//	go test ./internal/server -run '^$' -fuzz '^FuzzManagementAPI$' -fuzztime 60s -parallel 1
func FuzzManagementAPI(f *testing.F) {
	e := newFuzzEnv(f)
	admin, appID := e.admin(f, storage.DefaultTenant)
	org := e.organization(f, "Fuzz Corp")
	if err := e.srv.Store.CreatePermission(e.ctx, storage.Permission{TenantID: storage.DefaultTenant, Name: "read:invoices", CreatedAt: e.clock.Now()}); err != nil {
		f.Fatal(err)
	}
	p := e.signUp(f, "member@example.test", "Member")
	ids := strings.NewReplacer("{org}", org.ID, "{user}", p.id, "{app}", appID)
	base := e.issuer(storage.DefaultTenant) + "/api/v1"

	for i, tg := range fuzzAPITargets {
		n := uint8(i)
		if tg.body == "" {
			f.Add(n, "", "page_size=2")
			f.Add(n, "", "page_size=0")
			f.Add(n, "", "page_size=201&page_token=x")
			f.Add(n, "", "page_token=b3JnOjE3NDEwNjQ3NjcxMjM0NTY6b3JnXzE")
			f.Add(n, "", "page_token=%ff%00")
			continue
		}
		f.Add(n, ids.Replace(tg.body), "")
		f.Add(n, "", "")
		f.Add(n, "{", "")
		f.Add(n, "[]", "")
		f.Add(n, `{"unknown":1}`, "")
		f.Add(n, `{"name":12,"roles":"x","email":null}`, "")
		f.Add(n, ids.Replace(tg.body)+" {}", "")
	}
	f.Add(uint8(0), `{"name":"`+strings.Repeat("n", 5000)+`","custom_data":`+strings.Repeat("[", 2000)+`}`, "")
	f.Add(uint8(0), `{"name":"\ud800","slug":"UPPER CASE"}`, "")
	f.Add(uint8(1), `{"custom_data":"not an object","mfa_policy":"sometimes"}`, "")
	f.Add(uint8(8), `{"alg":"HS256","public_key_pem":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}`, "")

	h := e.srv.Handler
	f.Fuzz(func(t *testing.T, which uint8, body, query string) {
		tg := fuzzAPITargets[int(which)%len(fuzzAPITargets)]
		u := base + ids.Replace(tg.path)
		if query != "" {
			if strings.ContainsAny(query, "# \t\r\n") || !validHeaderValue(query) {
				return // not something a request line can carry
			}
			u += "?" + query
		}
		req := httptest.NewRequest(tg.method, u, strings.NewReader(body))
		if tg.method != http.MethodGet {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+admin.token)
		rec := serve(h, req)
		what := tg.method + " " + tg.path + "?" + query + " " + strconvQuote(body)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s: %d: %s", what, rec.Code, rec.Body)
		case rec.Code >= 400:
			wantProblem(t, what, rec)
		case rec.Code >= 200 && rec.Code < 300:
			if tg.method != http.MethodGet && !json.Valid([]byte(body)) {
				t.Fatalf("%s: %d for a body that is not JSON: %s", what, rec.Code, rec.Body)
			}
			if rec.Code != http.StatusNoContent && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s: %d with a body that is not JSON: %s", what, rec.Code, rec.Body)
			}
		default:
			t.Fatalf("%s: unexpected status %d: %s", what, rec.Code, rec.Body)
		}
	})
}

// wantProblem fails unless rec is an RFC 9457 problem of orgid's API: the
// problem+json media type, a type of urn:orgid:problem:, a title, and the
// answer's own status.
func wantProblem(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: %d with Content-Type %q, want problem+json: %s", what, rec.Code, ct, rec.Body)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || !strings.HasPrefix(p.Type, "urn:orgid:problem:") || p.Title == "" || p.Status != rec.Code {
		t.Fatalf("%s: %d is not a problem of its status (%v): %s", what, rec.Code, err, rec.Body)
	}
}
