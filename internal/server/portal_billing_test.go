package server_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// TestPortalBillingUsage is issue 10's billing acceptance: after N client
// credentials tokens for an application of the organization and a flush,
// the Billing tab's usage row of that application shows N for the month,
// and the month's CSV statement says what its page says (per client ID,
// the total and the monthly active users).
func TestPortalBillingUsage(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		robot, robotSecret := e.app(storage.DefaultTenant, storage.AppM2M, "", func(a *storage.Application) {
			a.RedirectURIs, a.PostLogoutRedirectURIs, a.OrganizationID, a.Name = nil, nil, orgID, "Acme robot"
		})
		e.link(t, orgID, robot, "member")
		const n = 7
		for range n {
			if status, body := e.orgClientToken(t, robot, robotSecret, orgID); status != http.StatusOK {
				t.Fatalf("client credentials token: %d %v", status, body)
			}
		}
		// A member's organization token makes them a monthly active user
		// (and counts a token for their sign-in application).
		ada := e.signUp(t, "ada@acme.test", "Ada")
		if _, err := e.srv.Manage.AddMembers(ctx, "default", manage.Actor{ID: "test"}, orgID, []string{ada.id}, []string{"member"}); err != nil {
			t.Fatal(err)
		}
		if status, body := ada.orgToken(t, orgID); status != http.StatusOK {
			t.Fatalf("member's organization token: %d %v", status, body)
		}

		month := storage.UsageMonth(e.clock.Now())
		label := e.clock.Now().UTC().Format("Jan 2006")
		_, before := owner.get("/portal/o/acme/billing")
		if got := usageCell(t, before, "usage-app-"+robot, label); got != "" && got != "0" {
			t.Errorf("usage before the flush = %q; want none yet (counters are batched)", got)
		}
		if err := e.srv.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}

		res, page := owner.get("/portal/o/acme/billing")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("billing page: %d\n%s", res.StatusCode, page)
		}
		if got := usageCell(t, page, "usage-app-"+robot, label); got != strconv.Itoa(n) {
			t.Errorf("usage row of %s for %s = %q; want %d", robot, label, got, n)
		}
		if got := usageCell(t, page, "usage-tokens", label); got != strconv.Itoa(n+1) {
			t.Errorf("tokens issued in %s = %q; want %d", label, got, n+1)
		}
		if got := usageCell(t, page, "usage-mau", label); got != "1" {
			t.Errorf("monthly active users in %s = %q; want 1", label, got)
		}
		if !strings.Contains(page, "Acme robot") {
			t.Errorf("the usage table does not name the application")
		}

		// The chart: an inline SVG image with a summary, a bar per month.
		svg := svgChart(t, page)
		if svg == nil {
			t.Fatalf("no <svg class=\"chart\"> on the billing page:\n%s", page)
		}
		aria := e2etest.Attr(svg, "aria-label")
		if e2etest.Attr(svg, "role") != "img" || !strings.Contains(aria, "Tokens issued per month") || !strings.Contains(aria, label+": "+strconv.Itoa(n+1)) {
			t.Errorf("chart role=%q aria-label=%q; want an image summarising the tokens per month", e2etest.Attr(svg, "role"), aria)
		}
		var bars, titles int
		e2etest.Walk(svg, func(n *html.Node) {
			switch {
			case n.Data == "rect" && e2etest.Attr(n, "class") == "bar":
				bars++
			case n.Data == "title":
				titles++
			}
		})
		if bars != 6 || titles != 1 {
			t.Errorf("chart has %d bars and %d titles; want one bar per month of the 6 and a title", bars, titles)
		}
		if strings.Contains(page, "style=") || strings.Contains(page, "<script>") {
			t.Errorf("the billing page has inline style or script (the CSP forbids them)")
		}

		// The statements list the months since the organization exists:
		// this one.
		statementPath := "/portal/o/acme/billing/statements/" + month
		if !strings.Contains(page, `href="/t/default`+statementPath+`"`) || !strings.Contains(page, `href="/t/default`+statementPath+`.csv"`) {
			t.Fatalf("no statement links for %s on the billing page:\n%s", month, page)
		}
		res, stPage := owner.get(statementPath)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("statement page: %d\n%s", res.StatusCode, stPage)
		}
		htmlTokens := map[string]string{}
		for _, id := range []string{robot, ada.clientID} {
			htmlTokens[id] = usageCell(t, stPage, "statement-app-"+id, "Tokens issued")
		}
		htmlTotal := e2etest.ElementText(t, stPage, "statement-total")
		htmlMAU := e2etest.ElementText(t, stPage, "statement-mau")
		if htmlTokens[robot] != strconv.Itoa(n) || htmlTokens[ada.clientID] != "1" || htmlTotal != strconv.Itoa(n+1) || htmlMAU != "1" {
			t.Errorf("statement page: tokens %v, total %s, active users %s; want %s: %d, %s: 1, total %d, 1 active user",
				htmlTokens, htmlTotal, htmlMAU, robot, n, ada.clientID, n+1)
		}

		res, body := owner.get(statementPath + ".csv")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			res.Header.Get("Content-Disposition") != `attachment; filename="acme-`+month+`.csv"` {
			t.Fatalf("CSV statement: %d, Content-Type %q, Content-Disposition %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
		}
		records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV statement does not parse: %v\n%s", err, body)
		}
		csvTokens := map[string]string{}
		var csvTotal, csvMAU string
		for _, rec := range records[1:] {
			if rec[1] != month {
				t.Errorf("CSV row %v is not of %s", rec, month)
			}
			switch rec[0] {
			case "application":
				csvTokens[rec[2]] = rec[4]
			case "total_tokens":
				csvTotal = rec[4]
			case "monthly_active_users":
				csvMAU = rec[4]
			}
		}
		if strings.Join(records[0], ",") != "row,month,client_id,application,count" || len(csvTokens) != len(htmlTokens) ||
			csvTokens[robot] != htmlTokens[robot] || csvTokens[ada.clientID] != htmlTokens[ada.clientID] ||
			csvTotal != htmlTotal || csvMAU != htmlMAU {
			t.Errorf("CSV statement %v (total %s, active users %s) does not match the page %v (total %s, active users %s):\n%s",
				csvTokens, csvTotal, csvMAU, htmlTokens, htmlTotal, htmlMAU, body)
		}

		// Months that are malformed, not begun or before the organization
		// have no statement.
		now := e.clock.Now().UTC()
		next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
		prev := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
		for _, m := range []string{"2025-13", "2025-1", "garbage", month + "x", next, next + ".csv", prev, prev + ".csv", month + ".pdf"} {
			if res, _ := owner.get("/portal/o/acme/billing/statements/" + m); res.StatusCode != http.StatusNotFound {
				t.Errorf("statement %q: %d; want 404", m, res.StatusCode)
			}
		}
	})
}

// TestPortalBillingRequests: Go live creates a request that the page shows
// and that is mailed to the tenant's support address; a second one is
// refused at the form; once a tenant administrator approves it the
// organization is live, with Change plan and the payment-method link, and
// a billing_manager can ask to change the plan.
func TestPortalBillingRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		if err := e.srv.Manage.UpdateTenantSettings(ctx, "default", manage.Actor{ID: "test"}, storage.TenantSettings{
			PersonalOrganization: true, SupportEmail: "billing@provider.test",
		}); err != nil {
			t.Fatal(err)
		}
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		bill := e.portalSignUp("default", "bill@acme.test", "Bill Manager")
		bill.join(orgID, "billing_manager")
		const page = "/portal/o/acme/billing"

		_, body := owner.get(page)
		if e2etest.ElementText(t, body, "plan-label") != "Development — not live" {
			t.Errorf("plan = %q; want Development — not live", e2etest.ElementText(t, body, "plan-label"))
		}
		if strings.Contains(body, "Request plan change") || strings.Contains(body, `id="payment-method"`) {
			t.Errorf("an organization that is not live is offered Change plan or the payment method")
		}

		// A free plan is no plan to go live on: refused at the field.
		posted, landed, body := owner.submit(page, "Request go live", url.Values{"plan": {"development"}})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+page ||
			!strings.Contains(body, `id="go-live-plan-error"`) || !strings.Contains(body, "must be one of starter, growth or enterprise") {
			t.Errorf("go live on development: %d then %s; want 303 back with the plan's error:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if reqs := billingRequests(t, e, orgID); len(reqs) != 0 {
			t.Fatalf("requests after a refused go live: %+v", reqs)
		}

		// The form as the page stands, kept to post again later.
		res, stale := owner.get(page)
		staleForm := e2etest.FormWith(t, stale, "Request go live")
		staleForm.Values.Set("plan", "growth")
		staleForm.Values.Set("note", "Invoices to ap@acme.test")
		posted, landed, body = owner.post(res.Request.URL, staleForm.Action, staleForm.Values)
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+page || !strings.Contains(body, "Request sent.") {
			t.Fatalf("go live: %d then %s; want 303 to the billing page with a notice:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		open := e2etest.ElementText(t, body, "open-request")
		if !strings.Contains(open, "Go live: Growth") || !strings.Contains(open, "Olive Owner") || !strings.Contains(open, "Invoices to ap@acme.test") {
			t.Errorf("open request shown as %q; want kind, plan, requester and note", open)
		}
		if strings.Contains(body, "Request go live") {
			t.Errorf("the Go live form is still offered while a request is open")
		}
		reqs := billingRequests(t, e, orgID)
		if len(reqs) != 1 || reqs[0].Kind != storage.BillingGoLive || reqs[0].Plan != "growth" || reqs[0].Status != storage.BillingRequestOpen {
			t.Fatalf("requests = %+v; want one open go_live to growth", reqs)
		}
		if got := mailsTo(t, e, mail.KindBillingRequest, "billing@provider.test"); got != 1 {
			t.Errorf("%d billing request mails to the support address; want 1", got)
		}

		// The same form again (a second tab, a double submit): refused
		// above the form, nothing more created or mailed.
		posted, landed, body = owner.post(res.Request.URL, staleForm.Action, staleForm.Values)
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+page ||
			!strings.Contains(body, `role="alert">The organization has an open billing request already.`) {
			t.Errorf("second go live: %d then %s; want 303 back with the refusal:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if reqs := billingRequests(t, e, orgID); len(reqs) != 1 {
			t.Errorf("requests after the refused second go live: %+v", reqs)
		}
		if got := mailsTo(t, e, mail.KindBillingRequest, "billing@provider.test"); got != 1 {
			t.Errorf("%d billing request mails after the refusal; want 1", got)
		}

		// A tenant administrator approves: live on Growth.
		if _, err := e.srv.Manage.ResolveBillingRequest(ctx, "default", manage.Actor{ID: "tenant-admin"}, reqs[0].ID, true); err != nil {
			t.Fatal(err)
		}
		_, body = bill.get(page)
		if got := e2etest.ElementText(t, body, "plan-label"); got != "Growth — live" {
			t.Errorf("plan after approval = %q; want Growth — live", got)
		}
		if strings.Contains(body, `id="open-request"`) || strings.Contains(body, "Request go live") || !strings.Contains(body, "Request plan change") {
			t.Errorf("a live organization without an open request should offer Change plan only:\n%s", body)
		}
		if got := e2etest.ElementText(t, body, "payment-method"); !strings.Contains(got, "Your provider has not set up a billing portal") {
			t.Errorf("payment method without a billing portal: %q", got)
		}
		if err := e.srv.Manage.UpdateTenantSettings(ctx, "default", manage.Actor{ID: "test"}, storage.TenantSettings{
			PersonalOrganization: true, SupportEmail: "billing@provider.test", BillingPortalURL: "https://billing.provider.test/portal",
		}); err != nil {
			t.Fatal(err)
		}
		_, body = bill.get(page)
		if !strings.Contains(body, `<a class="button secondary" href="https://billing.provider.test/portal" rel="noopener noreferrer">Manage payment method</a>`) {
			t.Errorf("no payment-method link to the tenant's billing portal:\n%s", body)
		}

		// Change plan, by the billing manager: the current plan is refused
		// at the field, another one is requested.
		res, current := bill.get(page)
		f := e2etest.FormWith(t, current, "Request plan change")
		if strings.Contains(current, `<option value="growth"`) {
			t.Errorf("Change plan offers the current plan")
		}
		f.Values.Set("plan", "growth")
		posted, _, body = bill.post(res.Request.URL, f.Action, f.Values)
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, `id="change-plan-plan-error"`) ||
			!strings.Contains(body, "Plan is the organization&#39;s plan already.") {
			t.Errorf("change to the current plan: %d; want 303 back with the plan's error:\n%s", posted.StatusCode, body)
		}
		posted, _, body = bill.submit(page, "Request plan change", url.Values{"plan": {"enterprise"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "Request sent.") ||
			!strings.Contains(e2etest.ElementText(t, body, "open-request"), "Change plan: Enterprise") ||
			!strings.Contains(e2etest.ElementText(t, body, "open-request"), "Bill Manager") {
			t.Errorf("change plan: %d; want 303 and the open request shown:\n%s", posted.StatusCode, body)
		}
		reqs = billingRequests(t, e, orgID)
		var change []storage.BillingRequest
		for _, r := range reqs {
			if r.Kind == storage.BillingChangePlan {
				change = append(change, r)
			}
		}
		if len(reqs) != 2 || len(change) != 1 || change[0].Plan != "enterprise" || change[0].Status != storage.BillingRequestOpen {
			t.Errorf("requests = %+v; want the approved go_live and an open change_plan to enterprise", reqs)
		}
		if got := mailsTo(t, e, mail.KindBillingRequest, "billing@provider.test"); got != 2 {
			t.Errorf("%d billing request mails; want 2", got)
		}
	})
}

// TestPortalBillingAccess: the Billing tab and every one of its URLs are
// for owners and billing managers; member and admin (who does not hold
// read:billing) get 403, a user of another organization 404; a form
// without its CSRF token is refused.
func TestPortalBillingAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		bill := e.portalSignUp("default", "bill@acme.test", "Bill Manager")
		bill.join(orgID, "billing_manager")
		member := e.portalSignUp("default", "mel@acme.test", "Mel Member")
		member.join(orgID, "member")
		admin := e.portalSignUp("default", "ann@acme.test", "Ann Admin")
		admin.join(orgID, "admin")
		outsider := e.portalSignUp("default", "otto@other.test", "Otto Outsider")

		month := storage.UsageMonth(e.clock.Now())
		gets := []string{"/portal/o/acme/billing", "/portal/o/acme/billing/statements/" + month, "/portal/o/acme/billing/statements/" + month + ".csv",
			"/portal/o/acme/billing/statements/garbage"}
		posts := []string{"/portal/o/acme/billing/go-live", "/portal/o/acme/billing/change-plan"}
		const tabLink = `href="/t/default/portal/o/acme/billing"`
		for _, c := range []struct {
			who  *portalUser
			want int // for the GETs but the malformed statement, and the POSTs
		}{
			{member, http.StatusForbidden},
			{admin, http.StatusForbidden},
			{outsider, http.StatusNotFound},
		} {
			_, home := c.who.get("/portal")
			if _, org := c.who.get("/portal/o/acme/members"); strings.Contains(org, tabLink) {
				t.Errorf("%s sees the Billing tab", c.who.email)
			}
			for _, p := range gets {
				if res, _ := c.who.get(p); res.StatusCode != c.want {
					t.Errorf("%s GET %s: %d; want %d", c.who.email, p, res.StatusCode, c.want)
				}
			}
			token := e2etest.FormWith(t, home, "Sign out").Values.Get("csrf_token")
			for _, p := range posts {
				posted, _, _ := c.who.post(mustURL(t, c.who.url(p)), c.who.url(p), url.Values{"csrf_token": {token}, "plan": {"starter"}})
				if posted.StatusCode != c.want {
					t.Errorf("%s POST %s: %d; want %d", c.who.email, p, posted.StatusCode, c.want)
				}
			}
		}
		for _, who := range []*portalUser{owner, bill} {
			res, body := who.get("/portal/o/acme/billing")
			if res.StatusCode != http.StatusOK || !strings.Contains(body, tabLink) || !strings.Contains(body, "Request go live") {
				t.Errorf("%s: billing page %d; want 200 with the tab and the Go live form", who.email, res.StatusCode)
			}
			for _, p := range gets[1:3] {
				if res, _ := who.get(p); res.StatusCode != http.StatusOK {
					t.Errorf("%s GET %s: %d; want 200", who.email, p, res.StatusCode)
				}
			}
		}
		if reqs := billingRequests(t, e, orgID); len(reqs) != 0 {
			t.Fatalf("requests after the refused posts: %+v", reqs)
		}

		// CSRF: the owner's Go live without its token.
		res, page := owner.get("/portal/o/acme/billing")
		f := e2etest.FormWith(t, page, "Request go live")
		f.Values.Del("csrf_token")
		posted, _, _ := owner.post(res.Request.URL, f.Action, f.Values)
		if posted.StatusCode != http.StatusForbidden {
			t.Errorf("go live without a CSRF token: %d; want 403", posted.StatusCode)
		}
		if reqs := billingRequests(t, e, orgID); len(reqs) != 0 {
			t.Errorf("requests after the post without a CSRF token: %+v", reqs)
		}
		// The same form with its token is accepted.
		posted, _, _ = owner.submit("/portal/o/acme/billing", "Request go live", nil)
		if posted.StatusCode != http.StatusSeeOther || len(billingRequests(t, e, orgID)) != 1 {
			t.Errorf("go live with its token: %d; want 303 and one request", posted.StatusCode)
		}
	})
}

// billingRequests are the organization's billing requests, newest first.
func billingRequests(t *testing.T, e *env, orgID string) []storage.BillingRequest {
	t.Helper()
	reqs, _, err := e.srv.Manage.ListBillingRequests(context.Background(), "default", orgID, "", storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// mailsTo counts the outbox's messages of kind to an address.
func mailsTo(t *testing.T, e *env, kind, to string) int {
	t.Helper()
	msgs, _, err := e.srv.Store.ListMail(context.Background(), "default", storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == kind && strings.EqualFold(m.To, to) {
			n++
		}
	}
	return n
}

// usageCell is the trimmed text of the cell labelled label (data-label)
// in the table row with id rowID; "" when there is no such row or cell.
func usageCell(t *testing.T, body, rowID, label string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out string
	e2etest.Walk(doc, func(n *html.Node) {
		if n.Data != "tr" || e2etest.Attr(n, "id") != rowID {
			return
		}
		e2etest.Walk(n, func(c *html.Node) {
			if c.Data == "td" && e2etest.Attr(c, "data-label") == label {
				out = strings.TrimSpace(e2etest.Text(c))
			}
		})
	})
	return out
}

// svgChart is the page's <svg class="chart">, or nil.
func svgChart(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var svg *html.Node
	e2etest.Walk(doc, func(n *html.Node) {
		if svg == nil && n.Data == "svg" && e2etest.Attr(n, "class") == "chart" {
			svg = n
		}
	})
	return svg
}
