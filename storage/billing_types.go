package storage

import "time"

// Billing (DESIGN §1 "billing (plan, usage)", §5 "Billing"): an
// organization's plan, the requests to go live or change plan that tenant
// administrators resolve, and the usage a bill is based on. orgid
// processes no payments: "live" records that the organization has a
// payment method, which the tenant's own billing portal handles.

// Plan names. The catalogue is fixed (internal/manage labels them).
const (
	// PlanDevelopment is the free plan of every new organization; an
	// organization on it is not live.
	PlanDevelopment = "development"
	PlanStarter     = "starter"
	PlanGrowth      = "growth"
	PlanEnterprise  = "enterprise"
)

// Billing is an organization's plan and whether it pays.
type Billing struct {
	TenantID       string
	OrganizationID string
	// Plan is one of the Plan* names.
	Plan string
	// Live says the organization has a payment method: it went live.
	Live bool
	// UpdatedAt is when the plan was last set; zero while it has its
	// defaults.
	UpdatedAt time.Time
}

// DefaultBilling is the billing of an organization that never had any
// set: the development plan, not live.
func DefaultBilling(tenantID, orgID string) Billing {
	return Billing{TenantID: tenantID, OrganizationID: orgID, Plan: PlanDevelopment}
}

// BillingRequestKind is what a billing request asks for.
type BillingRequestKind string

const (
	// BillingGoLive asks to start paying for Plan (only when not live).
	BillingGoLive BillingRequestKind = "go_live"
	// BillingChangePlan asks a live organization to move to Plan.
	BillingChangePlan BillingRequestKind = "change_plan"
)

// BillingRequestStatus is where a billing request is.
type BillingRequestStatus string

const (
	BillingRequestOpen     BillingRequestStatus = "open"
	BillingRequestApproved BillingRequestStatus = "approved"
	BillingRequestDeclined BillingRequestStatus = "declined"
)

// BillingRequest is an organization's request to go live or change plan,
// which a tenant administrator approves or declines. An organization has
// at most one open request.
type BillingRequest struct {
	TenantID       string
	ID             string
	OrganizationID string
	Kind           BillingRequestKind
	Plan           string
	Note           string
	Status         BillingRequestStatus
	// RequestedBy and ResolvedBy are actor IDs (users or clients).
	RequestedBy string
	CreatedAt   time.Time
	ResolvedBy  string
	// ResolvedAt is zero while the request is open.
	ResolvedAt time.Time
}

// UsageCount is a number of tokens issued to one application in one
// organization's context in one month. Month is UTC "YYYY-MM";
// OrganizationID "" is the tenant level (tokens in no organization's
// context).
type UsageCount struct {
	TenantID       string
	OrganizationID string
	ClientID       string
	Month          string
	Tokens         int64
}

// ActiveUser records that a user got a user token in an organization's
// context in a month (a monthly active user). Month is UTC "YYYY-MM".
type ActiveUser struct {
	TenantID       string
	OrganizationID string
	Month          string
	UserID         string
}

// UsageMonth is the usage month of t: UTC "YYYY-MM".
func UsageMonth(t time.Time) string { return t.UTC().Format("2006-01") }
