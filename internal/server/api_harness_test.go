package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage"
)

// The API tests call orgid's JSON APIs through specTransport, which checks
// every request and every response against docs/openapi.yaml: a test that
// passes is also a test that the description is right.

const specFile = "../../docs/openapi.yaml"

// spec is docs/openapi.yaml, loaded once, with a router that finds
// operations by the path after /t/{tenant}/api/v1.
var spec = sync.OnceValues(func() (*specIndex, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(specFile)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// Route on paths alone: the server URL's variables are the test
	// server's, and the transport strips /t/{tenant}/api/v1 itself.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &specIndex{doc: doc, router: router, seen: map[string]bool{}, succeeded: map[string]bool{}}, nil
})

type specIndex struct {
	doc    *openapi3.T
	router routers.Router
	mu     sync.Mutex
	// seen records every operation a test has called, succeeded those
	// that answered 2xx at least once (TestMain checks both).
	seen      map[string]bool
	succeeded map[string]bool
}

func (s *specIndex) saw(opID string, status int) {
	s.mu.Lock()
	s.seen[opID] = true
	if status >= 200 && status < 300 {
		s.succeeded[opID] = true
	}
	s.mu.Unlock()
}

// skipRequestCheck marks a request that is deliberately not what the
// description allows (malformed JSON, a missing field...): only its
// response is checked.
type skipRequestCheck struct{}

// specTransport validates requests to /t/{tenant}/api/v1/... and their
// responses with kin-openapi; anything else passes through unchecked.
type specTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func (s *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	_, rest, ok := strings.Cut(req.URL.Path, "/api/v1")
	if !ok || !strings.HasPrefix(req.URL.Path, "/t/") {
		return s.base.RoundTrip(req)
	}
	s.t.Helper()
	idx, err := spec()
	if err != nil {
		s.t.Fatalf("%s: %v", specFile, err)
	}
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	// The request as the description sees it: the path after /api/v1.
	routed := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host, u.Path, u.RawPath = "", "", rest, ""
	routed.URL = &u
	routed.Host = ""
	routed.Body = io.NopCloser(bytes.NewReader(reqBody))

	route, params, findErr := idx.router.FindRoute(routed)
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	input := &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route, Options: opts}
	if findErr == nil && req.Context().Value(skipRequestCheck{}) == nil {
		if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
			s.t.Errorf("request %s %s does not match %s:\n%v", req.Method, req.URL.Path, specFile, err)
		}
	}

	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	if findErr != nil {
		// Not described: it must be the API's own 404 or 405.
		if (resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed) ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			s.t.Errorf("%s %s is not in %s (%v) but answered %d %s", req.Method, req.URL.Path, specFile, findErr, resp.StatusCode, respBody)
		}
		return resp, nil
	}
	idx.saw(route.Operation.OperationID, resp.StatusCode)
	err = openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                opts,
	})
	if err != nil {
		s.t.Errorf("response to %s %s does not match %s:\n%v\nbody: %s", req.Method, req.URL.Path, specFile, err, respBody)
	}
	return resp, nil
}

// api is a client of one tenant's APIs holding a bearer token.
type api struct {
	t      testing.TB
	e      *env
	tenant string
	token  string
	hc     *http.Client
}

func (e *env) api(t testing.TB, tenant, token string) *api {
	hc := &http.Client{Transport: &specTransport{t: t, base: e.ts.Client().Transport}}
	return &api{t: t, e: e, tenant: tenant, token: token, hc: hc}
}

// with returns a client of the same tenant with another token ("" for none).
func (a *api) with(token string) *api {
	c := *a
	c.token = token
	return &c
}

// reply is an API answer: status, headers, the raw body and the body
// decoded as a JSON object (nil for none).
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// call options.
type callOpt func(*http.Request)

// invalid marks a request that breaks the description on purpose.
func invalid() callOpt {
	return func(r *http.Request) { *r = *r.WithContext(context.WithValue(r.Context(), skipRequestCheck{}, true)) }
}

func withHeader(k, v string) callOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends method path (after /t/{tenant}/api/v1) with body: nil for none,
// a string or []byte as is, anything else as JSON.
func (a *api) do(method, path string, body any, opts ...callOpt) reply {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.e.issuer(a.tenant)+"/api/v1"+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			a.t.Fatalf("%s %s answered %d with a body that is not a JSON object: %s", method, path, resp.StatusCode, raw)
		}
	}
	return r
}

// want fails unless the answer has status.
func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// problem fails unless the answer is a problem of status and code
// (urn:orgid:problem:{code}), naming field when field is not empty.
func (r reply) problem(t testing.TB, status int, code, field string) reply {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" ||
		r.body["type"] != "urn:orgid:problem:"+code || r.body["status"] != float64(status) || r.body["title"] == "" {
		t.Fatalf("got %d %s %s, want %d problem %s", r.status, r.header.Get("Content-Type"), r.raw, status, code)
	}
	if field != "" {
		errs, _ := r.body["errors"].([]any)
		if r.body["field"] != field || len(errs) != 1 || errs[0].(map[string]any)["field"] != field {
			t.Fatalf("problem names field %v (errors %v), want %s: %s", r.body["field"], r.body["errors"], field, r.raw)
		}
	}
	return r
}

// items returns a list answer's items.
func (r reply) items() []map[string]any {
	var out []map[string]any
	for _, it := range r.body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func (r reply) str(key string) string { s, _ := r.body[key].(string); return s }

// clientToken gets an access token with client credentials, for resource
// when it is not empty.
func (e *env) clientToken(t testing.TB, tenant, clientID, secret, resource string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if resource != "" {
		form.Set("resource", resource)
	}
	status, body, _ := e.postForm(e.issuer(tenant)+"/oauth/token", clientID, secret, form)
	return status, body
}

// m2m registers an m2m application in the store.
func (e *env) m2m(tenant string, tenantRoles ...string) (string, string) {
	return e.app(tenant, storage.AppM2M, "", func(a *storage.Application) {
		a.RedirectURIs, a.PostLogoutRedirectURIs, a.TenantRoles = nil, nil, tenantRoles
	})
}

// admin returns a management API client of tenant, with the token of a new
// m2m application holding the tenant role admin, and that application's ID.
func (e *env) admin(t testing.TB, tenant string) (*api, string) {
	t.Helper()
	id, secret := e.m2m(tenant, storage.TenantRoleAdmin)
	status, body := e.clientToken(t, tenant, id, secret, e.issuer(tenant)+"/api")
	if status != http.StatusOK {
		t.Fatalf("management token: %d %v", status, body)
	}
	return e.api(t, tenant, body["access_token"].(string)), id
}

// person is someone who signed up through the pages of tenant default,
// with a refresh token carrying scope organizations.
type person struct {
	e        *env
	id       string
	email    string
	clientID string
	secret   string
	refresh  string
	access   string
}

func (e *env) signUp(t testing.TB, email, name string) *person {
	t.Helper()
	clientID, secret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
	rp := e.rp(storage.DefaultTenant, clientID, secret, "openid", "offline_access", "organizations")
	verifier := oauth2.GenerateVerifier()
	q := e2etest.RedirectParams(t, e.browser().SignUp(rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), email, "a long enough password", name))
	status, body, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/token", clientID, secret, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {callback}, "code_verifier": {verifier},
	})
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	u, err := e.srv.Store.GetUserByEmail(e.ctx, storage.DefaultTenant, email)
	if err != nil {
		t.Fatal(err)
	}
	return &person{e: e, id: u.ID, email: email, clientID: clientID, secret: secret,
		refresh: body["refresh_token"].(string), access: body["access_token"].(string)}
}

// orgToken asks for an organization token for orgID with the refresh
// token (DESIGN §3, way 1) and keeps the rotated refresh token.
func (p *person) orgToken(t testing.TB, orgID string) (int, map[string]any) {
	t.Helper()
	status, body, _ := p.e.postForm(p.e.issuer(storage.DefaultTenant)+"/oauth/token", p.clientID, p.secret, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {p.refresh}, "organization_id": {orgID},
	})
	if rt, ok := body["refresh_token"].(string); ok && rt != "" {
		p.refresh = rt
	}
	return status, body
}

// orgAPI returns a self-service client of orgID with a fresh organization token.
func (p *person) orgAPI(t testing.TB, orgID string) *api {
	t.Helper()
	status, body := p.orgToken(t, orgID)
	if status != http.StatusOK {
		t.Fatalf("organization token for %s: %d %v", orgID, status, body)
	}
	return p.e.api(t, storage.DefaultTenant, body["access_token"].(string))
}
