package manage_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

var bt0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

type billingEnv struct {
	svc    *manage.Service
	store  storage.Store
	sealer *keys.Sealer
	now    time.Time
}

// newBillingEnv is a Service on a real SQLite store with tenant acme,
// organization o1 (Acme Corp), user u1 (Bob) and applications web and
// m2m.
func newBillingEnv(t *testing.T) *billingEnv {
	t.Helper()
	st := sqltest.SQLite(t)
	sealer, err := keys.NewSealer(bytes.Repeat([]byte{7}, 32))
	must(t, err)
	e := &billingEnv{store: st, sealer: sealer, now: bt0}
	now := func() time.Time { return e.now }
	e.svc = manage.New(manage.Config{
		Store: st, Now: now, Mail: mail.NewOutbox(sealer, now), ExternalURL: "https://id.example.test/", Sealer: sealer,
	})
	ctx := t.Context()
	must(t, st.CreateTenant(ctx, storage.Tenant{ID: "acme", Name: "Acme ID", Settings: storage.DefaultTenantSettings(), CreatedAt: bt0}))
	must(t, st.CreateOrganization(ctx, storage.Organization{TenantID: "acme", ID: "o1", Name: "Acme Corp", Slug: "acme-corp", CreatedAt: bt0}))
	must(t, st.CreateUser(ctx, storage.User{TenantID: "acme", ID: "u1", Email: "bob@acme.test", Name: "Bob", CreatedAt: bt0, UpdatedAt: bt0}))
	for _, app := range []storage.Application{
		{TenantID: "acme", ClientID: "web", Name: "Web shop", Type: storage.AppSPA, RedirectURIs: []string{"https://shop.acme.test/cb"}, CreatedAt: bt0},
		{TenantID: "acme", ClientID: "m2m", Name: "=cmd|' /C calc'!A0", Type: storage.AppM2M, SecretHash: bytes.Repeat([]byte{1}, 32), OrganizationID: "o1", CreatedAt: bt0},
	} {
		must(t, st.CreateApplication(ctx, app))
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var fe *storage.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Errorf("%s: got %v, want a FieldError on %s", what, err, field)
	}
}

func wantState(t *testing.T, what string, err error) {
	t.Helper()
	var se *manage.BillingStateError
	if !errors.As(err, &se) || !errors.Is(err, storage.ErrConflict) {
		t.Errorf("%s: got %v, want a BillingStateError (ErrConflict)", what, err)
	}
}

// mails returns the outbox's messages, newest first, with their text.
func (e *billingEnv) mails(t *testing.T) []manage.OutboxMessage {
	t.Helper()
	msgs, _, err := e.store.ListMail(t.Context(), "acme", storage.Page{})
	must(t, err)
	var out []manage.OutboxMessage
	for _, m := range msgs {
		full, err := e.svc.GetMail(t.Context(), "acme", m.ID)
		must(t, err)
		out = append(out, full)
	}
	return out
}

func (e *billingEnv) lastAudit(t *testing.T) storage.AuditEntry {
	t.Helper()
	es, _, err := e.store.ListAudit(t.Context(), "acme", storage.AuditFilter{}, storage.Page{Size: 1})
	must(t, err)
	if len(es) == 0 {
		t.Fatal("no audit entry")
	}
	return es[0]
}

func TestBillingView(t *testing.T) {
	e := newBillingEnv(t)
	ctx := t.Context()
	v, err := e.svc.Billing(ctx, "acme", "o1")
	must(t, err)
	if v.Plan != storage.PlanDevelopment || v.Live || v.PlanLabel != "Development" || v.PortalURL != "" || v.OpenRequest != nil {
		t.Errorf("billing of a new organization = %+v", v)
	}
	_, err = e.svc.Billing(ctx, "acme", "ghost")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Billing(ghost) = %v, want ErrNotFound", err)
	}

	must(t, e.svc.UpdateTenantSettings(ctx, "acme", manage.Actor{ID: "admin"}, storage.TenantSettings{
		PersonalOrganization: true, BillingPortalURL: "https://pay.acme.test/portal"}))
	r, err := e.svc.RequestGoLive(ctx, "acme", manage.Actor{ID: "u1"}, "o1", storage.PlanStarter, "")
	must(t, err)
	v, err = e.svc.Billing(ctx, "acme", "o1")
	must(t, err)
	if v.PortalURL != "https://pay.acme.test/portal" || v.OpenRequest == nil || v.OpenRequest.ID != r.ID {
		t.Errorf("billing with a portal and an open request = %+v", v)
	}
}

// Go live, then change plan: each request is stored, mailed to the
// support address and audited; the tenant admin's approval applies it.
func TestBillingRequests(t *testing.T) {
	e := newBillingEnv(t)
	ctx := t.Context()
	bob, admin := manage.Actor{ID: "u1", RequestID: "req-1"}, manage.Actor{ID: "admin-app"}
	must(t, e.svc.UpdateTenantSettings(ctx, "acme", admin, storage.TenantSettings{SupportEmail: "billing@acme.test"}))

	for _, tc := range []struct {
		plan, note, field string
	}{
		{storage.PlanDevelopment, "", "plan"},
		{"platinum", "", "plan"},
		{"", "", "plan"},
		{storage.PlanStarter, strings.Repeat("x", 2001), "note"},
		{storage.PlanStarter, "bad\x00note", "note"},
	} {
		_, err := e.svc.RequestGoLive(ctx, "acme", bob, "o1", tc.plan, tc.note)
		wantField(t, "go live "+tc.plan, err, tc.field)
	}
	_, err := e.svc.RequestPlanChange(ctx, "acme", bob, "o1", storage.PlanGrowth, "")
	wantState(t, "change plan while not live", err)
	_, err = e.svc.RequestGoLive(ctx, "acme", bob, "ghost", storage.PlanStarter, "")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("go live of a missing organization = %v, want ErrNotFound", err)
	}
	if n := len(e.mails(t)); n != 0 {
		t.Fatalf("%d mails after refused requests, want 0", n)
	}

	// Audit entries are listed newest first: each change gets its own time.
	e.now = bt0.Add(time.Minute)
	r, err := e.svc.RequestGoLive(ctx, "acme", bob, "o1", storage.PlanGrowth, "  We launch in April.  ")
	must(t, err)
	if r.Kind != storage.BillingGoLive || r.Plan != storage.PlanGrowth || r.Note != "We launch in April." ||
		r.Status != storage.BillingRequestOpen || r.RequestedBy != "u1" || !r.CreatedAt.Equal(e.now) {
		t.Errorf("request = %+v", r)
	}
	msgs := e.mails(t)
	if len(msgs) != 1 {
		t.Fatalf("%d mails after the request, want 1", len(msgs))
	}
	m := msgs[0]
	if m.To != "billing@acme.test" || m.Kind != mail.KindBillingRequest {
		t.Errorf("mail to %q kind %q", m.To, m.Kind)
	}
	for _, want := range []string{"Bob", "Acme Corp", "o1", "go live", "Growth", "We launch in April.",
		"\nhttps://id.example.test/t/acme/portal/admin/billing-requests\n"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("mail text lacks %q:\n%s", want, m.Text)
		}
	}
	if a := e.lastAudit(t); a.Action != "organization.billing.request" || a.Target != "o1" || a.Actor != "u1" || a.RequestID != "req-1" ||
		!strings.Contains(string(a.Details), r.ID) {
		t.Errorf("audit entry of the request = %+v", a)
	}

	_, err = e.svc.RequestGoLive(ctx, "acme", bob, "o1", storage.PlanStarter, "")
	wantState(t, "a second open request", err)
	if n := len(e.mails(t)); n != 1 {
		t.Errorf("%d mails after a refused second request, want 1", n)
	}

	open, _, err := e.svc.ListBillingRequests(ctx, "acme", "", storage.BillingRequestOpen, storage.Page{})
	must(t, err)
	if len(open) != 1 || open[0].ID != r.ID {
		t.Errorf("open requests = %+v", open)
	}
	_, _, err = e.svc.ListBillingRequests(ctx, "acme", "", "pending", storage.Page{})
	wantField(t, "list with a bad status", err, "status")

	e.now = bt0.Add(time.Hour)
	got, err := e.svc.ResolveBillingRequest(ctx, "acme", admin, r.ID, true)
	must(t, err)
	if got.Status != storage.BillingRequestApproved || got.ResolvedBy != "admin-app" || !got.ResolvedAt.Equal(e.now) {
		t.Errorf("approved request = %+v", got)
	}
	if a := e.lastAudit(t); a.Action != "organization.billing.approve" || a.Target != "o1" || a.Actor != "admin-app" {
		t.Errorf("audit entry of the approval = %+v", a)
	}
	v, err := e.svc.Billing(ctx, "acme", "o1")
	must(t, err)
	if !v.Live || v.Plan != storage.PlanGrowth || v.PlanLabel != "Growth" || v.OpenRequest != nil {
		t.Errorf("billing after approval = %+v", v)
	}
	_, err = e.svc.ResolveBillingRequest(ctx, "acme", admin, r.ID, false)
	wantState(t, "declining an approved request", err)
	_, err = e.svc.ResolveBillingRequest(ctx, "acme", admin, "ghost", true)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("resolving a missing request = %v, want ErrNotFound", err)
	}

	_, err = e.svc.RequestGoLive(ctx, "acme", bob, "o1", storage.PlanStarter, "")
	wantState(t, "go live when live", err)
	_, err = e.svc.RequestPlanChange(ctx, "acme", bob, "o1", storage.PlanGrowth, "")
	wantField(t, "change to the current plan", err, "plan")

	// A declined change of plan changes nothing; an approved one does.
	e.now = e.now.Add(time.Minute)
	r2, err := e.svc.RequestPlanChange(ctx, "acme", bob, "o1", storage.PlanEnterprise, "")
	must(t, err)
	if msgs := e.mails(t); len(msgs) != 2 || !strings.Contains(msgs[0].Text, "change plan") {
		t.Errorf("mails after a plan change request: %d", len(msgs))
	}
	e.now = e.now.Add(time.Minute)
	_, err = e.svc.ResolveBillingRequest(ctx, "acme", admin, r2.ID, false)
	must(t, err)
	if a := e.lastAudit(t); a.Action != "organization.billing.decline" {
		t.Errorf("audit entry of the decline = %+v", a)
	}
	v, err = e.svc.Billing(ctx, "acme", "o1")
	must(t, err)
	if !v.Live || v.Plan != storage.PlanGrowth {
		t.Errorf("billing after a decline = %+v", v)
	}
	r3, err := e.svc.RequestPlanChange(ctx, "acme", bob, "o1", storage.PlanStarter, "")
	must(t, err)
	_, err = e.svc.ResolveBillingRequest(ctx, "acme", admin, r3.ID, true)
	must(t, err)
	v, err = e.svc.Billing(ctx, "acme", "o1")
	must(t, err)
	if !v.Live || v.Plan != storage.PlanStarter {
		t.Errorf("billing after an approved change = %+v", v)
	}
}

// Without a support address a request is stored and audited, not mailed.
func TestBillingRequestWithoutSupportEmail(t *testing.T) {
	e := newBillingEnv(t)
	_, err := e.svc.RequestGoLive(t.Context(), "acme", manage.Actor{ID: "u1"}, "o1", storage.PlanStarter, "")
	must(t, err)
	if n := len(e.mails(t)); n != 0 {
		t.Errorf("%d mails without a support email, want 0", n)
	}
	if a := e.lastAudit(t); a.Action != "organization.billing.request" {
		t.Errorf("audit entry = %+v", a)
	}
}

func TestUpdateTenantSettings(t *testing.T) {
	e := newBillingEnv(t)
	ctx := t.Context()
	a := manage.Actor{ID: "admin"}
	for _, tc := range []struct {
		s     storage.TenantSettings
		field string
	}{
		{storage.TenantSettings{SupportEmail: "not an address"}, "support_email"},
		{storage.TenantSettings{SupportEmail: "Billing <billing@acme.test>"}, "support_email"},
		{storage.TenantSettings{BillingPortalURL: "javascript:alert(1)"}, "billing_portal_url"},
		{storage.TenantSettings{BillingPortalURL: "http://pay.acme.test/"}, "billing_portal_url"},
		{storage.TenantSettings{BillingPortalURL: "/relative"}, "billing_portal_url"},
		{storage.TenantSettings{BillingPortalURL: "https://user:pw@pay.acme.test/"}, "billing_portal_url"},
	} {
		wantField(t, "settings "+tc.s.SupportEmail+tc.s.BillingPortalURL, e.svc.UpdateTenantSettings(ctx, "acme", a, tc.s), tc.field)
	}
	got, err := e.svc.TenantSettings(ctx, "acme")
	must(t, err)
	if got != storage.DefaultTenantSettings() {
		t.Errorf("settings after refused updates = %+v", got)
	}
	for _, want := range []storage.TenantSettings{
		{PersonalOrganization: false, SupportEmail: "billing@acme.test", BillingPortalURL: "https://pay.acme.test/portal?x=1"},
		{PersonalOrganization: true, BillingPortalURL: "http://127.0.0.1:9000/pay"},
		{PersonalOrganization: true},
	} {
		e.now = e.now.Add(time.Minute) // audit entries list newest first
		must(t, e.svc.UpdateTenantSettings(ctx, "acme", a, want))
		got, err := e.svc.TenantSettings(ctx, "acme")
		must(t, err)
		if got != want {
			t.Errorf("settings = %+v, want %+v", got, want)
		}
		if au := e.lastAudit(t); au.Action != "tenant.settings.update" || au.Target != "acme" {
			t.Errorf("audit entry = %+v", au)
		}
	}
	err = e.svc.UpdateTenantSettings(ctx, "ghost", a, storage.TenantSettings{})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("settings of a missing tenant: %v, want ErrNotFound", err)
	}
}

// Usage per month (every month present, oldest first) and the statement
// of one month, whose CSV carries the same numbers; a deleted
// application is shown by its client ID.
func TestUsageAndStatement(t *testing.T) {
	e := newBillingEnv(t)
	ctx := t.Context()
	must(t, e.store.CreateApplication(ctx, storage.Application{TenantID: "acme", ClientID: "old", Name: "Old app", Type: storage.AppSPA,
		RedirectURIs: []string{"https://old.acme.test/cb"}, CreatedAt: bt0}))
	must(t, e.store.AddUsage(ctx, []storage.UsageCount{
		{TenantID: "acme", OrganizationID: "o1", ClientID: "m2m", Month: "2025-03", Tokens: 7},
		{TenantID: "acme", OrganizationID: "o1", ClientID: "web", Month: "2025-03", Tokens: 12},
		{TenantID: "acme", OrganizationID: "o1", ClientID: "old", Month: "2025-03", Tokens: 7},
		{TenantID: "acme", OrganizationID: "o1", ClientID: "web", Month: "2025-01", Tokens: 2},
		{TenantID: "acme", OrganizationID: "o1", ClientID: "web", Month: "2024-12", Tokens: 99}, // before the window
		{TenantID: "acme", OrganizationID: "", ClientID: "web", Month: "2025-03", Tokens: 5},
	}, []storage.ActiveUser{
		{TenantID: "acme", OrganizationID: "o1", Month: "2025-03", UserID: "u1"},
		{TenantID: "acme", OrganizationID: "o1", Month: "2025-03", UserID: "u2"},
		{TenantID: "acme", OrganizationID: "o1", Month: "2025-01", UserID: "u1"},
	}))
	must(t, e.store.DeleteApplication(ctx, "acme", "old"))

	months, err := e.svc.Usage(ctx, "acme", "o1", 3)
	must(t, err)
	if len(months) != 3 || months[0].Month != "2025-01" || months[1].Month != "2025-02" || months[2].Month != "2025-03" {
		t.Fatalf("months = %+v", months)
	}
	if m := months[0]; m.Tokens != 2 || m.ActiveUsers != 1 || len(m.Applications) != 1 || m.Applications[0].Name != "Web shop" {
		t.Errorf("January = %+v", m)
	}
	if m := months[1]; m.Tokens != 0 || m.ActiveUsers != 0 || len(m.Applications) != 0 {
		t.Errorf("February = %+v", m)
	}
	want := []manage.ApplicationUsage{
		{ClientID: "web", Name: "Web shop", Tokens: 12},
		{ClientID: "m2m", Name: "=cmd|' /C calc'!A0", Tokens: 7},
		{ClientID: "old", Name: "old", Deleted: true, Tokens: 7},
	}
	if m := months[2]; m.Tokens != 26 || m.ActiveUsers != 2 || !equalApps(m.Applications, want) {
		t.Errorf("March = %+v", m)
	}
	tenantLevel, err := e.svc.Usage(ctx, "acme", "", 1)
	must(t, err)
	if len(tenantLevel) != 1 || tenantLevel[0].Tokens != 5 {
		t.Errorf("tenant-level usage = %+v", tenantLevel)
	}
	if _, err := e.svc.Usage(ctx, "acme", "ghost", 3); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("usage of a missing organization: %v, want ErrNotFound", err)
	}
	if all, err := e.svc.Usage(ctx, "acme", "o1", 1000); err != nil || len(all) != manage.MaxUsageMonths {
		t.Errorf("usage of 1000 months: %d months (%v), want %d", len(all), err, manage.MaxUsageMonths)
	}

	st, err := e.svc.Statement(ctx, "acme", "o1", "2025-03")
	must(t, err)
	if st.OrganizationName != "Acme Corp" || st.PlanLabel != "Development" || st.TotalTokens != 26 || st.ActiveUsers != 2 ||
		!equalApps(st.Applications, want) {
		t.Errorf("statement = %+v", st)
	}
	var csv bytes.Buffer
	must(t, st.WriteCSV(&csv))
	wantCSV := "row,month,client_id,application,count\n" +
		"application,2025-03,web,Web shop,12\n" +
		"application,2025-03,m2m,'=cmd|' /C calc'!A0,7\n" +
		"application,2025-03,old,old,7\n" +
		"total_tokens,2025-03,,,26\n" +
		"monthly_active_users,2025-03,,,2\n"
	if csv.String() != wantCSV {
		t.Errorf("CSV:\n%s\nwant:\n%s", csv.String(), wantCSV)
	}
	for _, bad := range []string{"2025-13", "2025-3", "March", ""} {
		_, err := e.svc.Statement(ctx, "acme", "o1", bad)
		wantField(t, "statement of "+bad, err, "month")
	}
	if _, err := e.svc.Statement(ctx, "acme", "ghost", "2025-03"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("statement of a missing organization: %v, want ErrNotFound", err)
	}
}

func equalApps(got, want []manage.ApplicationUsage) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
