package manage

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Billing (DESIGN §5 "Billing"): an organization's plan, its requests to
// go live or change plan, which tenant administrators resolve and which
// are mailed to the tenant's support address, and its usage. orgid
// processes no payments: the payment method is managed on the tenant's
// external billing portal. Who may call what (owner and billing_manager
// for their organization, tenant administrators to resolve) is the
// caller's to check, as for every operation of this package.

// Plan is one plan of the fixed catalogue.
type Plan struct {
	Name  string
	Label string
	// Paid plans need the organization to be live (have a payment method).
	Paid bool
}

// Plans is the catalogue, cheapest first.
var Plans = []Plan{
	{Name: storage.PlanDevelopment, Label: "Development", Paid: false},
	{Name: storage.PlanStarter, Label: "Starter", Paid: true},
	{Name: storage.PlanGrowth, Label: "Growth", Paid: true},
	{Name: storage.PlanEnterprise, Label: "Enterprise", Paid: true},
}

// PlanLabel names a plan for people; an unknown name is shown as is.
func PlanLabel(name string) string {
	for _, p := range Plans {
		if p.Name == name {
			return p.Label
		}
	}
	return name
}

// paidPlan refuses a plan that is not a paid plan of the catalogue.
func paidPlan(plan string) error {
	for _, p := range Plans {
		if p.Name == plan && p.Paid {
			return nil
		}
	}
	return fieldErr("plan", "must be one of starter, growth or enterprise")
}

// maxNoteLen bounds the note of a billing request.
const maxNoteLen = 2000

// BillingStateError refuses a billing request that does not fit the
// organization's state: go live when it is live already, a plan change
// when it is not live, or any request while another one is open. It
// wraps storage.ErrConflict.
type BillingStateError struct {
	Message string
}

func (e *BillingStateError) Error() string { return "manage: " + e.Message }

// Unwrap makes errors.Is(err, storage.ErrConflict) hold.
func (e *BillingStateError) Unwrap() error { return storage.ErrConflict }

// BillingView is what the Billing tab shows of an organization.
type BillingView struct {
	storage.Billing
	PlanLabel string
	// PortalURL is the tenant's billing portal (payment method); "" when
	// the tenant has none.
	PortalURL string
	// OpenRequest is the organization's open billing request, if any.
	OpenRequest *storage.BillingRequest
}

// Billing returns orgID's plan, live flag, the billing portal URL and
// its open request. ErrNotFound when there is no such organization.
func (s *Service) Billing(ctx context.Context, tenant, orgID string) (BillingView, error) {
	b, err := s.store.GetBilling(ctx, tenant, orgID)
	if err != nil {
		return BillingView{}, err
	}
	t, err := s.store.GetTenant(ctx, tenant)
	if err != nil {
		return BillingView{}, err
	}
	v := BillingView{Billing: b, PlanLabel: PlanLabel(b.Plan), PortalURL: t.Settings.BillingPortalURL}
	open, _, err := s.store.ListBillingRequests(ctx, tenant, orgID, storage.BillingRequestOpen, storage.Page{Size: 1})
	if err != nil {
		return BillingView{}, err
	}
	if len(open) > 0 {
		v.OpenRequest = &open[0]
	}
	return v, nil
}

// RequestGoLive asks for orgID, not live yet, to go live on a paid plan.
// The request is stored, mailed to the tenant's support email (when set)
// and audited in one transaction. A FieldError on plan or note; a
// BillingStateError when the organization is live already or has an open
// request; ErrNotFound when there is no such organization.
func (s *Service) RequestGoLive(ctx context.Context, tenant string, a Actor, orgID, plan, note string) (storage.BillingRequest, error) {
	return s.requestBilling(ctx, tenant, a, orgID, storage.BillingGoLive, plan, note)
}

// RequestPlanChange asks for orgID, live, to move to another paid plan,
// as RequestGoLive does. A FieldError on plan (also when it is the
// current plan) or note; a BillingStateError when the organization is not
// live or has an open request; ErrNotFound.
func (s *Service) RequestPlanChange(ctx context.Context, tenant string, a Actor, orgID, plan, note string) (storage.BillingRequest, error) {
	return s.requestBilling(ctx, tenant, a, orgID, storage.BillingChangePlan, plan, note)
}

func (s *Service) requestBilling(ctx context.Context, tenant string, a Actor, orgID string, kind storage.BillingRequestKind, plan, note string) (storage.BillingRequest, error) {
	if err := paidPlan(plan); err != nil {
		return storage.BillingRequest{}, err
	}
	note = strings.TrimSpace(note)
	if err := checkText("note", note, maxNoteLen); err != nil {
		return storage.BillingRequest{}, err
	}
	r := storage.BillingRequest{
		TenantID: tenant, ID: secure.ID("brq"), OrganizationID: orgID, Kind: kind, Plan: plan, Note: note,
		Status: storage.BillingRequestOpen, RequestedBy: a.ID, CreatedAt: s.now(),
	}
	c := &change{tenant: tenant, action: "organization.billing.request", target: orgID,
		details: map[string]any{"request_id": r.ID, "kind": kind, "plan": plan}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		b, err := tx.GetBilling(ctx, tenant, orgID)
		if err != nil {
			return err
		}
		switch {
		case kind == storage.BillingGoLive && b.Live:
			return &BillingStateError{Message: "the organization is live already: ask for a change of plan"}
		case kind == storage.BillingChangePlan && !b.Live:
			return &BillingStateError{Message: "the organization is not live: ask to go live first"}
		case kind == storage.BillingChangePlan && b.Plan == plan:
			return fieldErr("plan", "is the organization's plan already")
		}
		if err := tx.CreateBillingRequest(ctx, r); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return &BillingStateError{Message: "the organization has an open billing request already"}
			}
			return err
		}
		return s.mailBillingRequest(ctx, tx, r)
	})
	if err != nil {
		return storage.BillingRequest{}, err
	}
	return r, nil
}

// mailBillingRequest queues the message that tells the tenant's support
// email of r, through tx so that it is sent if and only if r is stored.
// A tenant without a support email gets none: its administrators see the
// request in the portal.
func (s *Service) mailBillingRequest(ctx context.Context, tx storage.Store, r storage.BillingRequest) error {
	t, err := tx.GetTenant(ctx, r.TenantID)
	if err != nil {
		return err
	}
	if t.Settings.SupportEmail == "" {
		return nil
	}
	if s.mail == nil {
		return errors.New("manage: no mail outbox to send the billing request through")
	}
	org, err := tx.GetOrganization(ctx, r.TenantID, r.OrganizationID)
	if err != nil {
		return err
	}
	requester, err := inviterName(ctx, tx, r.TenantID, r.RequestedBy)
	if err != nil {
		return err
	}
	product := "orgid"
	if strings.TrimSpace(t.Name) != "" {
		product = t.Name
	}
	action := "go live"
	if r.Kind == storage.BillingChangePlan {
		action = "change plan"
	}
	msg, err := mail.BillingRequest(mail.BillingRequestData{
		TenantID: r.TenantID, Product: product, To: t.Settings.SupportEmail,
		OrganizationName: org.Name, OrganizationID: org.ID, Action: action, PlanLabel: PlanLabel(r.Plan),
		Note: r.Note, RequestedBy: requester, Link: s.BillingRequestsLink(r.TenantID),
	})
	if err != nil {
		return err
	}
	return s.mail.Enqueue(ctx, tx, msg)
}

// BillingRequestsLink is the portal page where the tenant's
// administrators resolve billing requests.
func (s *Service) BillingRequestsLink(tenant string) string {
	return strings.TrimRight(s.externalURL, "/") + "/t/" + url.PathEscape(tenant) + "/portal/admin/billing-requests"
}

// ListBillingRequests pages through the tenant's billing requests (of
// orgID only unless it is ""; with status only unless it is ""), newest
// first. A FieldError on status.
func (s *Service) ListBillingRequests(ctx context.Context, tenant, orgID string, status storage.BillingRequestStatus, p storage.Page) ([]storage.BillingRequest, string, error) {
	switch status {
	case "", storage.BillingRequestOpen, storage.BillingRequestApproved, storage.BillingRequestDeclined:
	default:
		return nil, "", fieldErr("status", "must be open, approved or declined")
	}
	return s.store.ListBillingRequests(ctx, tenant, orgID, status, p)
}

// ResolveBillingRequest approves or declines an open request, with its
// audit entry, in one transaction; approving applies the plan (and makes
// the organization live for go_live). ErrNotFound; a BillingStateError
// (wrapping ErrConflict) when it is resolved already.
func (s *Service) ResolveBillingRequest(ctx context.Context, tenant string, a Actor, id string, approve bool) (storage.BillingRequest, error) {
	status, action := storage.BillingRequestDeclined, "organization.billing.decline"
	if approve {
		status, action = storage.BillingRequestApproved, "organization.billing.approve"
	}
	var r storage.BillingRequest
	c := &change{tenant: tenant, action: action}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		var err error
		r, err = tx.ResolveBillingRequest(ctx, tenant, id, status, a.ID, s.now())
		if errors.Is(err, storage.ErrConflict) {
			return &BillingStateError{Message: "the billing request is resolved already"}
		}
		if err != nil {
			return err
		}
		c.target = r.OrganizationID
		c.details = map[string]any{"request_id": r.ID, "kind": r.Kind, "plan": r.Plan}
		return nil
	})
	if err != nil {
		return storage.BillingRequest{}, err
	}
	return r, nil
}

// Usage.

// MaxUsageMonths is the most months Usage returns.
const MaxUsageMonths = 24

// ApplicationUsage is the tokens one application was issued in a month.
type ApplicationUsage struct {
	ClientID string
	// Name is the application's name; its client ID when it has been
	// deleted since (Deleted).
	Name    string
	Deleted bool
	Tokens  int64
}

// UsageMonth is an organization's usage in one month.
type UsageMonth struct {
	// Month is UTC "YYYY-MM".
	Month       string
	ActiveUsers int
	// Tokens is the total of Applications'.
	Tokens       int64
	Applications []ApplicationUsage
}

// Usage returns orgID's usage ("" for the tenant level) in the last
// months months up to the current one (1 to MaxUsageMonths; 0 or less
// means 6), oldest first, every month present even when empty. Within a
// month, applications by most tokens, then client ID. ErrNotFound when
// there is no such organization.
func (s *Service) Usage(ctx context.Context, tenant, orgID string, months int) ([]UsageMonth, error) {
	if months <= 0 {
		months = 6
	}
	months = min(months, MaxUsageMonths)
	if orgID != "" {
		if _, err := s.store.GetOrganization(ctx, tenant, orgID); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	first := time.Date(now.Year(), now.Month()-time.Month(months-1), 1, 0, 0, 0, 0, time.UTC)
	from, to := storage.UsageMonth(first), storage.UsageMonth(now)
	counts, err := s.store.ListUsage(ctx, tenant, orgID, from, to)
	if err != nil {
		return nil, err
	}
	active, err := s.store.CountActiveUsers(ctx, tenant, orgID, from, to)
	if err != nil {
		return nil, err
	}
	names := appNames{s: s, tenant: tenant, m: map[string]ApplicationUsage{}}
	out := make([]UsageMonth, months)
	index := map[string]int{}
	for i := range out {
		m := storage.UsageMonth(first.AddDate(0, i, 0))
		out[i] = UsageMonth{Month: m, ActiveUsers: active[m]}
		index[m] = i
	}
	for _, c := range counts {
		i, ok := index[c.Month]
		if !ok {
			continue
		}
		app, err := names.get(ctx, c.ClientID)
		if err != nil {
			return nil, err
		}
		app.Tokens = c.Tokens
		out[i].Applications = append(out[i].Applications, app)
		out[i].Tokens += c.Tokens
	}
	for i := range out {
		sortApplicationUsage(out[i].Applications)
	}
	return out, nil
}

// appNames looks applications up once each.
type appNames struct {
	s      *Service
	tenant string
	m      map[string]ApplicationUsage
}

func (n appNames) get(ctx context.Context, clientID string) (ApplicationUsage, error) {
	if a, ok := n.m[clientID]; ok {
		return a, nil
	}
	a := ApplicationUsage{ClientID: clientID}
	app, err := n.s.store.GetApplication(ctx, n.tenant, clientID)
	switch {
	case err == nil:
		a.Name = app.Name
	case errors.Is(err, storage.ErrNotFound):
		a.Name, a.Deleted = clientID, true
	default:
		return ApplicationUsage{}, err
	}
	n.m[clientID] = a
	return a, nil
}

// monthRE is a UTC month, "YYYY-MM".
var monthRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
