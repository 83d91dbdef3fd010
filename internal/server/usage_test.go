package server_test

import (
	"net/http"
	"testing"

	"github.com/orgid/orgid/storage"
)

// TestUsageCounting: tokens are counted on the token path and reach the
// store when the usage is flushed (DESIGN §5 "Billing": usage counted
// cheaply, batched, flushed): an organization's client credentials
// tokens count for it, an owned application's tokens count for its
// organization even without organization_id, a tenant-wide token counts
// for the tenant level, and a user's organization token makes them an
// active user of that organization.
func TestUsageCounting(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		month := storage.UsageMonth(e.clock.Now())
		acme := e.organization(t, "Acme Corp")
		linked, linkedSecret := e.m2m(storage.DefaultTenant)
		e.link(t, acme.ID, linked, "member")
		owned, ownedSecret := e.app(storage.DefaultTenant, storage.AppM2M, "", func(a *storage.Application) {
			a.RedirectURIs, a.PostLogoutRedirectURIs, a.OrganizationID = nil, nil, acme.ID
		})
		plain, plainSecret := e.m2m(storage.DefaultTenant)

		const n = 5
		for range n {
			if status, body := e.orgClientToken(t, linked, linkedSecret, acme.ID); status != http.StatusOK {
				t.Fatalf("organization token: %d %v", status, body)
			}
		}
		e.link(t, acme.ID, owned, "member")
		if status, body := e.orgClientToken(t, owned, ownedSecret, acme.ID); status != http.StatusOK {
			t.Fatalf("owned application's token: %d %v", status, body)
		}
		for range 2 {
			if status, body := e.clientToken(t, storage.DefaultTenant, plain, plainSecret, "https://reports.example.test"); status != http.StatusOK {
				t.Fatalf("tenant-wide token: %d %v", status, body)
			}
		}
		// A refused request counts nothing.
		if status, _ := e.orgClientToken(t, plain, plainSecret, acme.ID); status != http.StatusForbidden {
			t.Fatalf("unlinked organization token: %d, want 403", status)
		}

		p := e.signUp(t, "ada@example.test", "Ada")
		orgs, err := e.srv.Store.ListUserOrganizations(e.ctx, storage.DefaultTenant, p.id)
		if err != nil || len(orgs) != 1 {
			t.Fatalf("personal organization: %v %v", orgs, err)
		}
		personal := orgs[0].ID
		if status, body := p.orgToken(t, personal); status != http.StatusOK {
			t.Fatalf("organization token of the user: %d %v", status, body)
		}

		usage := func(orgID string) map[string]int64 {
			t.Helper()
			rows, err := e.srv.Store.ListUsage(e.ctx, storage.DefaultTenant, orgID, month, month)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int64{}
			for _, r := range rows {
				out[r.ClientID] = r.Tokens
			}
			return out
		}
		if got := usage(acme.ID); len(got) != 0 {
			t.Fatalf("usage before any flush: %v", got)
		}
		if err := e.srv.FlushUsage(e.ctx); err != nil {
			t.Fatal(err)
		}

		if got := usage(acme.ID); len(got) != 2 || got[linked] != n || got[owned] != 1 {
			t.Errorf("Acme's usage = %v, want %s: %d, %s: 1", got, linked, n, owned)
		}
		if got := usage(""); got[plain] != 2 || got[p.clientID] != 1 {
			t.Errorf("tenant-level usage = %v, want %s: 2 and the sign-up's code exchange", got, plain)
		}
		if got := usage(personal); got[p.clientID] != 1 {
			t.Errorf("personal organization's usage = %v, want %s: 1", got, p.clientID)
		}
		active := func(orgID string) int {
			t.Helper()
			m, err := e.srv.Store.CountActiveUsers(e.ctx, storage.DefaultTenant, orgID, month, month)
			if err != nil {
				t.Fatal(err)
			}
			return m[month]
		}
		if got := active(personal); got != 1 {
			t.Errorf("active users of the personal organization = %d, want 1", got)
		}
		if got := active(acme.ID); got != 0 {
			t.Errorf("active users of Acme = %d, want 0 (m2m tokens make none)", got)
		}
	})
}
