package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Billing (DESIGN §5): organizations' plans, billing requests (at most one
// open per organization, resolved by compare-and-set, approval applying
// the plan), and everything billing goes with its organization.
var durableBillingTests = []durableTest{
	{"Billing/Defaults", durTestBillingDefaults},
	{"Billing/Set", durTestBillingSet},
	{"Billing/TenantSettings", durTestTenantSettings},
	{"BillingRequest/Create", durTestBillingRequestCreate},
	{"BillingRequest/OneOpenConcurrent", durTestBillingRequestOneOpenConcurrent},
	{"BillingRequest/Resolve", durTestBillingRequestResolve},
	{"BillingRequest/ResolveConcurrent", durTestBillingRequestResolveConcurrent},
	{"BillingRequest/List", durTestBillingRequestList},
	{"Billing/DeleteOrganization", durTestBillingDeleteOrg},
}

func durBillingRequest(tenantID, id, orgID string, kind storage.BillingRequestKind, plan string, at time.Time) storage.BillingRequest {
	return storage.BillingRequest{
		TenantID: tenantID, ID: id, OrganizationID: orgID, Kind: kind, Plan: plan, Note: "note of " + id,
		Status: storage.BillingRequestOpen, RequestedBy: "u-" + id, CreatedAt: at,
	}
}

func durGetBilling(t *testing.T, s storage.Store, tenantID, orgID string) storage.Billing {
	t.Helper()
	b, err := s.GetBilling(t.Context(), tenantID, orgID)
	durMust(t, err)
	return b
}

// An organization never given a plan has the defaults; a missing one,
// or another tenant's, has none.
func durTestBillingDefaults(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durOrg(t, s, "acme", "o1", "one")
	durSame(t, "billing of a new organization", durGetBilling(t, s, "acme", "o1"), storage.DefaultBilling("acme", "o1"))
	if b := storage.DefaultBilling("acme", "o1"); b.Plan != storage.PlanDevelopment || b.Live {
		t.Errorf("DefaultBilling = %+v, want development, not live", b)
	}
	_, err := s.GetBilling(t.Context(), "acme", "ghost")
	durWantErr(t, "GetBilling(ghost)", err, storage.ErrNotFound)
	_, err = s.GetBilling(t.Context(), "other", "o1")
	durWantErr(t, "GetBilling of acme's organization in other", err, storage.ErrNotFound)
}

func durTestBillingSet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	b := storage.Billing{TenantID: "acme", OrganizationID: "o1", Plan: storage.PlanGrowth, Live: true, UpdatedAt: durT0.Add(time.Hour)}
	durMust(t, s.SetBilling(t.Context(), b))
	durSame(t, "billing after set", durGetBilling(t, s, "acme", "o1"), b)
	durSame(t, "o2's billing", durGetBilling(t, s, "acme", "o2"), storage.DefaultBilling("acme", "o2"))

	b2 := storage.Billing{TenantID: "acme", OrganizationID: "o1", Plan: storage.PlanStarter, Live: false, UpdatedAt: durT0.Add(2 * time.Hour)}
	durMust(t, s.SetBilling(t.Context(), b2))
	durSame(t, "billing after a second set", durGetBilling(t, s, "acme", "o1"), b2)

	durWantErr(t, "SetBilling(ghost)", s.SetBilling(t.Context(), storage.Billing{TenantID: "acme", OrganizationID: "ghost", Plan: storage.PlanGrowth}), storage.ErrNotFound)
}

// The support email and billing portal URL are tenant settings that
// UpdateTenantSettings replaces as a whole.
func durTestTenantSettings(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	other := durTenant(t, s, "other")
	want := storage.TenantSettings{PersonalOrganization: false, SupportEmail: "billing@acme.test", BillingPortalURL: "https://pay.acme.test/portal"}
	durMust(t, s.UpdateTenantSettings(t.Context(), "acme", want))
	tn, err := s.GetTenant(t.Context(), "acme")
	durMust(t, err)
	durSame(t, "settings after update", tn.Settings, want)
	got, err := s.GetTenant(t.Context(), "other")
	durMust(t, err)
	durSame(t, "other tenant's settings", got.Settings, other.Settings)
	durWantErr(t, "UpdateTenantSettings(ghost)", s.UpdateTenantSettings(t.Context(), "ghost", want), storage.ErrNotFound)
}

func durTestBillingRequestCreate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	r := durBillingRequest("acme", "br1", "o1", storage.BillingGoLive, storage.PlanStarter, durT0)
	durMust(t, s.CreateBillingRequest(t.Context(), r))
	got, err := s.GetBillingRequest(t.Context(), "acme", "br1")
	durMust(t, err)
	durSame(t, "request", got, r)

	second := durBillingRequest("acme", "br2", "o1", storage.BillingGoLive, storage.PlanGrowth, durT0.Add(time.Second))
	durWantErr(t, "a second open request", s.CreateBillingRequest(t.Context(), second), storage.ErrConflict)
	_, err = s.GetBillingRequest(t.Context(), "acme", "br2")
	durWantErr(t, "the refused request", err, storage.ErrNotFound)

	taken := durBillingRequest("acme", "br1", "o2", storage.BillingGoLive, storage.PlanStarter, durT0)
	durWantErr(t, "a taken ID", s.CreateBillingRequest(t.Context(), taken), storage.ErrAlreadyExists)
	durWantErr(t, "a missing organization", s.CreateBillingRequest(t.Context(),
		durBillingRequest("acme", "br3", "ghost", storage.BillingGoLive, storage.PlanStarter, durT0)), storage.ErrNotFound)
	// o2 may have its own open request.
	durMust(t, s.CreateBillingRequest(t.Context(), durBillingRequest("acme", "br4", "o2", storage.BillingGoLive, storage.PlanStarter, durT0)))

	_, err = s.GetBillingRequest(t.Context(), "acme", "ghost")
	durWantErr(t, "GetBillingRequest(ghost)", err, storage.ErrNotFound)
	_, err = s.GetBillingRequest(t.Context(), "other", "br1")
	durWantErr(t, "acme's request from other", err, storage.ErrNotFound)
}

// Of concurrent requests for one organization exactly one is stored.
func durTestBillingRequestOneOpenConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	errs := durRace(func(i int) error {
		return s.CreateBillingRequest(t.Context(),
			durBillingRequest("acme", fmt.Sprintf("br%d", i), "o1", storage.BillingGoLive, storage.PlanStarter, durT0))
	})
	durOneWinner(t, errs, storage.ErrConflict)
	open, _, err := s.ListBillingRequests(t.Context(), "acme", "o1", storage.BillingRequestOpen, storage.Page{})
	durMust(t, err)
	if len(open) != 1 {
		t.Errorf("%d open requests after the race, want 1", len(open))
	}
}

func durTestBillingRequestResolve(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	ctx := t.Context()
	at := durT0.Add(time.Hour)

	// A declined request changes nothing but itself.
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br1", "o1", storage.BillingGoLive, storage.PlanGrowth, durT0)))
	got, err := s.ResolveBillingRequest(ctx, "acme", "br1", storage.BillingRequestDeclined, "admin-1", at)
	durMust(t, err)
	want := durBillingRequest("acme", "br1", "o1", storage.BillingGoLive, storage.PlanGrowth, durT0)
	want.Status, want.ResolvedBy, want.ResolvedAt = storage.BillingRequestDeclined, "admin-1", at
	durSame(t, "declined request", got, want)
	stored, err := s.GetBillingRequest(ctx, "acme", "br1")
	durMust(t, err)
	durSame(t, "declined request as stored", stored, want)
	durSame(t, "billing after a decline", durGetBilling(t, s, "acme", "o1"), storage.DefaultBilling("acme", "o1"))
	_, err = s.ResolveBillingRequest(ctx, "acme", "br1", storage.BillingRequestApproved, "admin-2", at)
	durWantErr(t, "approving a declined request", err, storage.ErrConflict)
	durSame(t, "billing after the refused approval", durGetBilling(t, s, "acme", "o1"), storage.DefaultBilling("acme", "o1"))

	// Approving go_live makes the organization live on the plan.
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br2", "o1", storage.BillingGoLive, storage.PlanStarter, durT0.Add(time.Minute))))
	_, err = s.ResolveBillingRequest(ctx, "acme", "br2", storage.BillingRequestApproved, "admin-1", at)
	durMust(t, err)
	durSame(t, "billing after go_live", durGetBilling(t, s, "acme", "o1"),
		storage.Billing{TenantID: "acme", OrganizationID: "o1", Plan: storage.PlanStarter, Live: true, UpdatedAt: at})
	_, err = s.ResolveBillingRequest(ctx, "acme", "br2", storage.BillingRequestDeclined, "admin-1", at)
	durWantErr(t, "declining an approved request", err, storage.ErrConflict)

	// Approving change_plan changes the plan and keeps it live.
	at2 := at.Add(time.Hour)
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br3", "o1", storage.BillingChangePlan, storage.PlanEnterprise, durT0.Add(2*time.Minute))))
	_, err = s.ResolveBillingRequest(ctx, "acme", "br3", storage.BillingRequestApproved, "admin-1", at2)
	durMust(t, err)
	durSame(t, "billing after change_plan", durGetBilling(t, s, "acme", "o1"),
		storage.Billing{TenantID: "acme", OrganizationID: "o1", Plan: storage.PlanEnterprise, Live: true, UpdatedAt: at2})

	_, err = s.ResolveBillingRequest(ctx, "acme", "ghost", storage.BillingRequestApproved, "admin-1", at)
	durWantErr(t, "resolving a missing request", err, storage.ErrNotFound)
	durTenant(t, s, "other")
	_, err = s.ResolveBillingRequest(ctx, "other", "br3", storage.BillingRequestApproved, "admin-1", at)
	durWantErr(t, "resolving acme's request from other", err, storage.ErrNotFound)
}

// Of concurrent resolvers, some approving and some declining, exactly one
// wins, and the organization's billing is what the winner decided.
func durTestBillingRequestResolveConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durMust(t, s.CreateBillingRequest(t.Context(), durBillingRequest("acme", "br1", "o1", storage.BillingGoLive, storage.PlanGrowth, durT0)))
	at := durT0.Add(time.Hour)
	errs := durRace(func(i int) error {
		status := storage.BillingRequestApproved
		if i%2 == 1 {
			status = storage.BillingRequestDeclined
		}
		_, err := s.ResolveBillingRequest(t.Context(), "acme", "br1", status, fmt.Sprintf("admin-%d", i), at)
		return err
	})
	durOneWinner(t, errs, storage.ErrConflict)
	r, err := s.GetBillingRequest(t.Context(), "acme", "br1")
	durMust(t, err)
	b := durGetBilling(t, s, "acme", "o1")
	switch r.Status {
	case storage.BillingRequestApproved:
		if !b.Live || b.Plan != storage.PlanGrowth {
			t.Errorf("approved, but billing is %+v", b)
		}
	case storage.BillingRequestDeclined:
		durSame(t, "billing after a decline won", b, storage.DefaultBilling("acme", "o1"))
	default:
		t.Errorf("status after the race = %q", r.Status)
	}
}

func durTestBillingRequestList(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durOrg(t, s, "other", "o1", "one")
	ctx := t.Context()
	// o1: br1 (declined), br2 (open); o2: br3 (approved); other: one open.
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br1", "o1", storage.BillingGoLive, storage.PlanStarter, durT0)))
	_, err := s.ResolveBillingRequest(ctx, "acme", "br1", storage.BillingRequestDeclined, "admin", durT0.Add(time.Minute))
	durMust(t, err)
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br2", "o1", storage.BillingGoLive, storage.PlanGrowth, durT0.Add(2*time.Minute))))
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br3", "o2", storage.BillingGoLive, storage.PlanStarter, durT0.Add(time.Minute))))
	_, err = s.ResolveBillingRequest(ctx, "acme", "br3", storage.BillingRequestApproved, "admin", durT0.Add(3*time.Minute))
	durMust(t, err)
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("other", "bo", "o1", storage.BillingGoLive, storage.PlanStarter, durT0)))

	ids := func(orgID string, status storage.BillingRequestStatus, p storage.Page) ([]string, string) {
		t.Helper()
		rs, next, err := s.ListBillingRequests(ctx, "acme", orgID, status, p)
		durMust(t, err)
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out, next
	}
	for _, tc := range []struct {
		org    string
		status storage.BillingRequestStatus
		want   []string
	}{
		{"", "", []string{"br2", "br3", "br1"}},
		{"o1", "", []string{"br2", "br1"}},
		{"o2", "", []string{"br3"}},
		{"", storage.BillingRequestOpen, []string{"br2"}},
		{"o1", storage.BillingRequestDeclined, []string{"br1"}},
		{"o2", storage.BillingRequestOpen, nil},
		{"ghost", "", nil},
	} {
		got, next := ids(tc.org, tc.status, storage.Page{})
		durSame(t, fmt.Sprintf("list org=%q status=%q", tc.org, tc.status), got, tc.want)
		if next != "" {
			t.Errorf("list org=%q status=%q: next page %q, want none", tc.org, tc.status, next)
		}
	}
	// Pages of one, newest first, all the way.
	var all []string
	p := storage.Page{Size: 1}
	for range 10 {
		got, next := ids("", "", p)
		all = append(all, got...)
		if next == "" {
			break
		}
		p.After = next
	}
	durSame(t, "paged list", all, []string{"br2", "br3", "br1"})
}

// DeleteOrganization takes the organization's billing, its requests and
// its usage along, and nothing of another organization's or of the
// tenant level; an organization created again with its ID starts afresh.
func durTestBillingDeleteOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	ctx := t.Context()
	month := storage.UsageMonth(durT0)
	for _, org := range []string{"o1", "o2"} {
		durMust(t, s.SetBilling(ctx, storage.Billing{TenantID: "acme", OrganizationID: org, Plan: storage.PlanGrowth, Live: true, UpdatedAt: durT0}))
		durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br-"+org, org, storage.BillingChangePlan, storage.PlanEnterprise, durT0)))
	}
	durMust(t, s.AddUsage(ctx, []storage.UsageCount{
		{TenantID: "acme", OrganizationID: "o1", ClientID: "c1", Month: month, Tokens: 5},
		{TenantID: "acme", OrganizationID: "o2", ClientID: "c1", Month: month, Tokens: 7},
		{TenantID: "acme", OrganizationID: "", ClientID: "c1", Month: month, Tokens: 9},
	}, []storage.ActiveUser{
		{TenantID: "acme", OrganizationID: "o1", Month: month, UserID: "u1"},
		{TenantID: "acme", OrganizationID: "o2", Month: month, UserID: "u1"},
	}))

	durMust(t, s.DeleteOrganization(ctx, "acme", "o1"))
	_, err := s.GetBilling(ctx, "acme", "o1")
	durWantErr(t, "billing of the deleted organization", err, storage.ErrNotFound)
	_, err = s.GetBillingRequest(ctx, "acme", "br-o1")
	durWantErr(t, "request of the deleted organization", err, storage.ErrNotFound)
	if u := durUsage(t, s, "acme", "o1", month); len(u) != 0 {
		t.Errorf("usage of the deleted organization: %+v", u)
	}
	if n := durActive(t, s, "acme", "o1", month); len(n) != 0 {
		t.Errorf("active users of the deleted organization: %v", n)
	}

	if b := durGetBilling(t, s, "acme", "o2"); b.Plan != storage.PlanGrowth || !b.Live {
		t.Errorf("o2's billing after o1 was deleted: %+v", b)
	}
	if _, err := s.GetBillingRequest(ctx, "acme", "br-o2"); err != nil {
		t.Errorf("o2's request after o1 was deleted: %v", err)
	}
	durSame(t, "o2's usage", durUsage(t, s, "acme", "o2", month),
		[]storage.UsageCount{{TenantID: "acme", OrganizationID: "o2", ClientID: "c1", Month: month, Tokens: 7}})
	durSame(t, "o2's active users", durActive(t, s, "acme", "o2", month), map[string]int{month: 1})
	durSame(t, "tenant-level usage", durUsage(t, s, "acme", "", month),
		[]storage.UsageCount{{TenantID: "acme", OrganizationID: "", ClientID: "c1", Month: month, Tokens: 9}})

	durOrg(t, s, "acme", "o1", "one")
	durSame(t, "billing of the organization created again", durGetBilling(t, s, "acme", "o1"), storage.DefaultBilling("acme", "o1"))
	if u := durUsage(t, s, "acme", "o1", month); len(u) != 0 {
		t.Errorf("usage of the organization created again: %+v", u)
	}
	// It may open a request again: the old open one is gone.
	durMust(t, s.CreateBillingRequest(ctx, durBillingRequest("acme", "br-new", "o1", storage.BillingGoLive, storage.PlanStarter, durT0)))
}
