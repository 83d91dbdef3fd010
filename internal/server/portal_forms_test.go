package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage"
)

// portalPages are the pages an owner can open in an organization with
// some of everything: every form of the portal is on one of them.
func portalPages(slug string) []string {
	pages := []string{"/portal", "/account/organizations"}
	for _, tab := range allTabs {
		pages = append(pages, "/portal/o/"+slug+"/"+tab)
	}
	return pages
}

type pageForm struct {
	page string
	from *url.URL
	form e2etest.Form
}

// TestPortalFormsCSRFAndRedirect crawls the owner's pages and checks every
// form that posts: without its CSRF token it is refused with 403 and
// changes nothing; with it, the answer is a 303 redirect (a success or
// a refusal carried to the page), never a page to post again on reload.
func TestPortalFormsCSRFAndRedirect(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		other := e.portalSignUp("default", "member@acme.test", "Mel Member")
		other.join(orgID, "member")

		var forms []pageForm
		for _, p := range portalPages("acme") {
			res, body := owner.get(p)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", p, res.StatusCode)
			}
			for _, f := range e2etest.Forms(t, body) {
				if f.Method == "post" {
					forms = append(forms, pageForm{page: p, from: res.Request.URL, form: f})
				}
			}
		}
		if len(forms) < 6 {
			t.Fatalf("found %d forms that post; the crawl is broken", len(forms))
		}
		audit := func() int {
			entries, _, err := e.srv.Store.ListAudit(context.Background(), "default", storage.AuditFilter{}, storage.Page{Size: storage.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			return len(entries)
		}
		before := audit()
		for _, pf := range forms {
			v := url.Values{}
			for k, vs := range pf.form.Values {
				if k != "csrf_token" {
					v[k] = slices.Clone(vs)
				}
			}
			posted, _, _ := owner.post(pf.from, pf.form.Action, v)
			if posted.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %v without its CSRF token: %d; want 403", pf.page, pf.form.Buttons, posted.StatusCode)
			}
			// A token of another browser is no better.
			_, otherPage := other.get("/portal")
			v.Set("csrf_token", e2etest.FormWith(t, otherPage, "Sign out").Values.Get("csrf_token"))
			posted, _, _ = owner.post(pf.from, pf.form.Action, v)
			if posted.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %v with another browser's token: %d; want 403", pf.page, pf.form.Buttons, posted.StatusCode)
			}
		}
		if after := audit(); after != before {
			t.Errorf("refused forms changed something: %d audit entries, %d before", after, before)
		}
		// Signing out goes last: the other forms need the session.
		slices.SortStableFunc(forms, func(a, b pageForm) int {
			return boolInt(slices.Contains(a.form.Buttons, "Sign out")) - boolInt(slices.Contains(b.form.Buttons, "Sign out"))
		})
		for _, pf := range forms {
			posted, _, _ := owner.post(pf.from, pf.form.Action, pf.form.Values)
			if posted.StatusCode != http.StatusSeeOther {
				t.Errorf("%s: %v as it stands: %d; want 303", pf.page, pf.form.Buttons, posted.StatusCode)
			}
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
