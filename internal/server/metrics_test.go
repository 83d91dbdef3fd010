package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/orgid/orgid/internal/adminapi"
	"github.com/orgid/orgid/internal/metrics"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage"
)

// scrape reads /metrics over HTTP, as Prometheus does, and parses it.
func (e *env) scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := e.ts.Client().Get(e.ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample returns the value of the sample of family name whose labels are
// exactly want (counter, gauge or the count of a histogram), and whether
// there is one.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		match := true
		for _, l := range m.Label {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// labelValues returns every value label takes in family name.
func labelValues(fams map[string]*dto.MetricFamily, name, label string) map[string]bool {
	out := map[string]bool{}
	if f := fams[name]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == label {
					out[l.GetValue()] = true
				}
			}
		}
	}
	return out
}

// TestMetrics runs a small end-to-end session — a sign-in, N refreshes to
// organization tokens, M client credentials organization tokens and a few
// deliberate refusals — and checks what /metrics says about it, and that
// no label holds anything identifying.
func TestMetrics(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newOrgWorld(t, e)
		tok := w.tokens(t) // authorization_code: one user token
		rt := tok["refresh_token"].(string)

		const n = 3 // refresh → organization token
		var secrets []string
		for i := range n {
			org := w.acme
			if i%2 == 1 {
				org = w.globex
			}
			status, body, raw := w.refresh(rt, url.Values{"organization_id": {org.ID}})
			if status != http.StatusOK {
				t.Fatalf("refresh %d: %d %s", i, status, raw)
			}
			secrets = append(secrets, body["access_token"].(string), rt)
			rt = body["refresh_token"].(string)
		}
		secrets = append(secrets, rt, tok["access_token"].(string), tok["id_token"].(string))

		m2mID, m2mSecret := e.m2m(storage.DefaultTenant)
		e.link(t, w.acme.ID, m2mID, storage.RoleMember)
		const m = 4 // client credentials with organization_id → m2m token
		for i := range m {
			status, body, _ := e.postForm(w.token(), m2mID, m2mSecret, url.Values{
				"grant_type": {"client_credentials"}, "organization_id": {w.acme.ID},
			})
			if status != http.StatusOK {
				t.Fatalf("client credentials %d: %d %v", i, status, body)
			}
			secrets = append(secrets, body["access_token"].(string))
		}

		// Deliberate refusals, each with its status and code.
		cc := url.Values{"grant_type": {"client_credentials"}, "organization_id": {w.acme.ID}}
		s, body, _ := e.postForm(w.token(), m2mID, "wrong-secret", cc)
		wantError(t, s, body, http.StatusUnauthorized, "invalid_client")
		s, body, _ = e.postForm(w.token(), "no-such-client", m2mSecret, cc)
		wantError(t, s, body, http.StatusUnauthorized, "invalid_client")
		s, body, _ = e.postForm(w.token(), w.clientID, w.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"grt_nope.nope"}})
		wantError(t, s, body, http.StatusBadRequest, "invalid_grant")
		// Refused by zitadel/oidc itself, before any orgid code runs.
		s, body, _ = e.postForm(w.token(), w.clientID, w.secret, url.Values{"grant_type": {"password"}, "username": {"grace@example.test"}, "password": {"x"}})
		wantError(t, s, body, http.StatusBadRequest, "unsupported_grant_type")
		// An organization the user, and then the application, is not in.
		s, body, _ = w.refresh(rt, url.Values{"organization_id": {w.initech.ID}})
		wantError(t, s, body, http.StatusForbidden, "access_denied")
		s, body, _ = e.postForm(w.token(), m2mID, m2mSecret, url.Values{"grant_type": {"client_credentials"}, "organization_id": {w.initech.ID}})
		wantError(t, s, body, http.StatusForbidden, "access_denied")

		// Paths with IDs in them that nothing serves.
		for _, p := range []string{"/nothing/" + w.userID, "/t/default/api/v1/nothing/" + w.acme.ID, "/t/default/nothing/" + w.globex.ID} {
			resp, err := e.ts.Client().Get(e.ts.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("GET %s: %d, want 404", p, resp.StatusCode)
			}
		}

		fams := e.scrape(t)
		tenant := storage.DefaultTenant
		const token = "/t/{tenant}/oauth/token"
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"orgid_tokens_issued_total", map[string]string{"tenant": tenant, "grant_type": "authorization_code", "kind": "user"}, 1},
			{"orgid_tokens_issued_total", map[string]string{"tenant": tenant, "grant_type": "refresh_token", "kind": "organization"}, n},
			{"orgid_tokens_issued_total", map[string]string{"tenant": tenant, "grant_type": "client_credentials", "kind": "m2m"}, m},
			{"orgid_oauth_refusals_total", map[string]string{"tenant": tenant, "route": token, "error": "invalid_client"}, 2},
			{"orgid_oauth_refusals_total", map[string]string{"tenant": tenant, "route": token, "error": "invalid_grant"}, 1},
			{"orgid_oauth_refusals_total", map[string]string{"tenant": tenant, "route": token, "error": "unsupported_grant_type"}, 1},
			{"orgid_oauth_refusals_total", map[string]string{"tenant": tenant, "route": token, "error": "access_denied"}, 2},
			{"orgid_http_requests_total", map[string]string{"route": token, "method": "POST", "status": "200"}, 1 + n + m},
			{"orgid_http_requests_total", map[string]string{"route": token, "method": "POST", "status": "401"}, 2},
			{"orgid_http_requests_total", map[string]string{"route": token, "method": "POST", "status": "400"}, 2},
			{"orgid_http_requests_total", map[string]string{"route": token, "method": "POST", "status": "403"}, 2},
			{"orgid_http_request_duration_seconds", map[string]string{"route": token, "method": "POST"}, 1 + n + m + 6},
			{"orgid_http_requests_total", map[string]string{"route": metrics.UnmatchedRoute, "method": "GET", "status": "404"}, 1},
			{"orgid_http_requests_total", map[string]string{"route": adminapi.NotFoundRoute, "method": "GET", "status": "404"}, 1},
			{"orgid_http_requests_total", map[string]string{"route": server.ProtocolUnknownRoute, "method": "GET", "status": "404"}, 1},
		} {
			got, ok := sample(fams, c.name, c.labels)
			if !ok || got != c.want {
				t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
			}
		}
		// The API's 404 is a problem: counted by its problem code.
		if got, _ := sample(fams, "orgid_oauth_refusals_total", map[string]string{"tenant": "", "route": adminapi.NotFoundRoute, "error": "not-found"}); got != 1 {
			t.Errorf("API 404 refusal = %v, want 1", got)
		}

		// The store wrapper measures both stores under their backend names.
		durable, ephemeral := "sqlite", "memory"
		if b.name == scaled.name {
			durable, ephemeral = "postgres", "redis"
		}
		backends := labelValues(fams, "orgid_store_call_duration_seconds", "backend")
		if !backends[durable] || !backends[ephemeral] {
			t.Errorf("store call backends %v, want %s and %s", backends, durable, ephemeral)
		}
		if _, ok := fams["orgid_store_call_errors_total"]; !ok && fams["orgid_store_call_duration_seconds"] == nil {
			t.Error("no store call metrics")
		}
		// Repeated client credentials within the cache TTL (the clock
		// stands still) hit the client and access caches.
		for _, c := range []string{"tenant", "client", "application_access"} {
			if hits, _ := sample(fams, "orgid_cache_requests_total", map[string]string{"cache": c, "result": "hit"}); hits == 0 {
				t.Errorf("cache %s: no hits", c)
			}
			if misses, _ := sample(fams, "orgid_cache_requests_total", map[string]string{"cache": c, "result": "miss"}); misses == 0 {
				t.Errorf("cache %s: no misses", c)
			}
		}
		// Sign-up queued a verification mail, which the sender may have
		// drained already: the gauge is there, and never negative.
		if v, ok := sample(fams, "orgid_mail_outbox_backlog", map[string]string{}); !ok || v < 0 {
			t.Errorf("orgid_mail_outbox_backlog = %v (present %v)", v, ok)
		}
		for _, f := range []string{"go_goroutines", "process_resident_memory_bytes"} {
			if fams[f] == nil {
				t.Errorf("no %s", f)
			}
		}

		// Label hygiene: nothing identifying in any label of any family.
		forbidden := append([]string{w.userID, "grace@example.test", w.secret, m2mSecret, w.personal,
			w.acme.ID, w.globex.ID, w.initech.ID, "/nothing/"}, secrets...)
		segment := regexp.MustCompile(`^(\{[A-Za-z]+\}|[a-z._-]{1,24}|v1)$`)
		for name, f := range fams {
			for _, mt := range f.Metric {
				for _, l := range mt.Label {
					v := l.GetValue()
					for _, bad := range forbidden {
						if bad != "" && strings.Contains(v, bad) {
							t.Errorf("%s label %s=%q holds %q", name, l.GetName(), v, bad)
						}
					}
					if l.GetName() != "route" || v == metrics.UnmatchedRoute {
						continue
					}
					for _, seg := range strings.Split(strings.Trim(v, "/"), "/") {
						if seg != "" && !segment.MatchString(seg) {
							t.Errorf("%s route label %q: segment %q is not a template's", name, v, seg)
						}
					}
				}
			}
		}
	})
}

// accessLines returns the access lines of the captured log whose
// request_id is id.
func accessLines(e *env, id string) []string {
	var out []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, "msg=request ") && strings.Contains(line, " request_id="+id+" ") {
			out = append(out, line)
		}
	}
	return out
}

// TestAccessLine: one line per request, with the request ID the response
// echoes, the route template, the status and the authenticated client.
func TestAccessLine(t *testing.T) {
	e := newEnv(t, embedded)
	id, secret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
	tokenURL := e.issuer(storage.DefaultTenant) + "/oauth/token"
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {e.issuer(storage.DefaultTenant) + "/api"}}

	post := func(reqID, secret string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		if reqID != "" {
			req.Header.Set("X-Request-Id", reqID)
		}
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("token", func(t *testing.T) {
		resp := post("trace-ok-1", secret)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-Id") != "trace-ok-1" {
			t.Fatalf("status %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
		}
		lines := accessLines(e, "trace-ok-1")
		if len(lines) != 1 {
			t.Fatalf("%d access lines, want 1: %q", len(lines), lines)
		}
		for _, want := range []string{"level=INFO", "method=POST", "route=/t/{tenant}/oauth/token", "status=200", "duration_ms=",
			"tenant=" + storage.DefaultTenant, "client_id=" + id} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("access line lacks %q: %s", want, lines[0])
			}
		}
		if strings.Contains(lines[0], "error=") || strings.Contains(lines[0], secret) {
			t.Errorf("access line of a success: %s", lines[0])
		}
	})

	t.Run("refusal", func(t *testing.T) {
		resp := post("trace-bad-1", "wrong-secret")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
		lines := accessLines(e, "trace-bad-1")
		if len(lines) != 1 || !strings.Contains(lines[0], "status=401") || !strings.Contains(lines[0], "error=invalid_client") {
			t.Fatalf("access lines %q", lines)
		}
		// The client did not authenticate: it is not named.
		if strings.Contains(lines[0], "client_id="+id) || strings.Contains(lines[0], "wrong-secret") {
			t.Errorf("refused access line: %s", lines[0])
		}
	})

	t.Run("made request ID", func(t *testing.T) {
		for _, bad := range []string{"", "has space", strings.Repeat("a", 129)} {
			resp := post(bad, secret)
			got := resp.Header.Get("X-Request-Id")
			if !regexp.MustCompile(`^req_[a-z2-7]{20}$`).MatchString(got) {
				t.Fatalf("X-Request-Id for %q = %q, want a fresh one", bad, got)
			}
			if lines := accessLines(e, got); len(lines) != 1 {
				t.Fatalf("%d access lines for %s", len(lines), got)
			}
		}
	})

	t.Run("health at debug, unmatched at info", func(t *testing.T) {
		for _, c := range []struct{ path, level, route string }{
			{"/healthz", "DEBUG", "/healthz"},
			{"/metrics", "DEBUG", "/metrics"},
			{"/no/such/path", "INFO", metrics.UnmatchedRoute},
		} {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+c.path, nil)
			req.Header.Set("X-Request-Id", "trace-"+strings.ReplaceAll(c.path, "/", "-"))
			resp, err := e.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			lines := accessLines(e, req.Header.Get("X-Request-Id"))
			if len(lines) != 1 || !strings.Contains(lines[0], "level="+c.level) || !strings.Contains(lines[0], "route="+c.route+" ") {
				t.Errorf("%s: access lines %q, want one at %s with route %s", c.path, lines, c.level, c.route)
			}
		}
	})
}
