package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// TestAPIAuthentication: the management API takes only a live management
// token of its own tenant (DESIGN §4), and says why not with RFC 6750
// challenges.
func TestAPIAuthentication(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.tenant("other")
		admin, _ := e.admin(t, storage.DefaultTenant)
		other, _ := e.admin(t, "other")

		admin.do(http.MethodGet, "/admin/organizations", nil).want(t, http.StatusOK)

		t.Run("no token", func(t *testing.T) {
			r := admin.with("").do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusUnauthorized, "unauthorized", "")
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="orgid"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			// Another scheme is no bearer token either.
			admin.with("").do(http.MethodGet, "/admin/organizations", nil, withHeader("Authorization", "Basic Zm9vOmJhcg==")).
				problem(t, http.StatusUnauthorized, "unauthorized", "")
		})

		invalidToken := func(t *testing.T, c *api) {
			t.Helper()
			r := c.do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusUnauthorized, "invalid-token", "")
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="orgid", error="invalid_token"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		}
		t.Run("garbage token", func(t *testing.T) { invalidToken(t, admin.with("not.a.jwt")) })
		t.Run("another tenant's token", func(t *testing.T) {
			invalidToken(t, admin.with(other.token))
			// ...and the other way round.
			invalidToken(t, other.with(admin.token))
		})

		insufficient := func(t *testing.T, c *api) {
			t.Helper()
			r := c.do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusForbidden, "insufficient-scope", "")
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="orgid", error="insufficient_scope", scope="management"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		}
		t.Run("m2m application without the admin role", func(t *testing.T) {
			id, secret := e.m2m(storage.DefaultTenant)
			// It cannot even get a token for the API...
			status, body := e.clientToken(t, storage.DefaultTenant, id, secret, e.issuer(storage.DefaultTenant)+"/api")
			wantError(t, status, body, http.StatusBadRequest, "invalid_target")
			// ...and its token for another resource is not for the API.
			status, body = e.clientToken(t, storage.DefaultTenant, id, secret, "https://reports.example.test")
			if status != http.StatusOK {
				t.Fatalf("client credentials for another resource: %d %v", status, body)
			}
			insufficient(t, admin.with(body["access_token"].(string)))
		})
		t.Run("a user's access token", func(t *testing.T) {
			p := e.signUp(t, "ada@example.test", "Ada")
			insufficient(t, admin.with(p.access))
		})
		t.Run("an organization token", func(t *testing.T) {
			p := e.signUp(t, "org.owner@example.test", "Owner")
			orgs, err := e.srv.Store.ListUserOrganizations(e.ctx, storage.DefaultTenant, p.id)
			if err != nil || len(orgs) != 1 {
				t.Fatalf("personal organization: %v %v", orgs, err)
			}
			insufficient(t, admin.with(p.orgAPI(t, orgs[0].ID).token))
		})

		t.Run("expired token", func(t *testing.T) {
			c, _ := e.admin(t, storage.DefaultTenant)
			e.advance(e.srv.Config.AccessTokenTTL + time.Second)
			invalidToken(t, c)
		})

		t.Run("deleted application", func(t *testing.T) {
			c, id := e.admin(t, storage.DefaultTenant)
			fresh, _ := e.admin(t, storage.DefaultTenant)
			fresh.do(http.MethodDelete, "/admin/applications/"+id, nil).want(t, http.StatusNoContent)
			// Its token is refused at once, not when it expires.
			invalidToken(t, c)
		})

		t.Run("unknown path and method", func(t *testing.T) {
			c, _ := e.admin(t, storage.DefaultTenant)
			c.do(http.MethodGet, "/admin/nothing-here", nil).problem(t, http.StatusNotFound, "not-found", "")
			c.do(http.MethodGet, "/nothing", nil).problem(t, http.StatusNotFound, "not-found", "")
			c.do(http.MethodPatch, "/admin/organizations", map[string]any{}).problem(t, http.StatusMethodNotAllowed, "method-not-allowed", "")
		})
	})
}

// TestAPIRequestID: the caller's X-Request-Id is echoed when it is sane;
// otherwise orgid makes one.
func TestAPIRequestID(t *testing.T) {
	e := newEnv(t, embedded)
	admin, _ := e.admin(t, storage.DefaultTenant)
	r := admin.do(http.MethodGet, "/admin/organizations", nil, withHeader("X-Request-Id", "trace-42")).want(t, http.StatusOK)
	if got := r.header.Get("X-Request-Id"); got != "trace-42" {
		t.Errorf("X-Request-Id = %q, want the caller's", got)
	}
	made := regexp.MustCompile(`^req_[a-z2-7]{20}$`)
	for _, bad := range []string{"", "has space", "semi;colon", "quote\"d", strings.Repeat("a", 129)} {
		r := admin.do(http.MethodGet, "/admin/organizations", nil, withHeader("X-Request-Id", bad)).want(t, http.StatusOK)
		if got := r.header.Get("X-Request-Id"); !made.MatchString(got) {
			t.Errorf("X-Request-Id for %q = %q, want a fresh one", bad, got)
		}
	}
	// Problems carry it too.
	r = admin.with("").do(http.MethodGet, "/admin/organizations", nil, withHeader("X-Request-Id", "trace-43"))
	if r.header.Get("X-Request-Id") != "trace-43" || r.body["request_id"] != "trace-43" {
		t.Errorf("problem: header %q body %v", r.header.Get("X-Request-Id"), r.body)
	}
}
