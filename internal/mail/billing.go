package mail

// KindBillingRequest is the message that tells a tenant's support address
// of an organization's request to go live or change plan.
const KindBillingRequest = "billing_request"

// BillingRequestData fills the billing request message.
type BillingRequestData struct {
	TenantID string
	Product  string
	// To is the tenant's support email.
	To               string
	OrganizationName string
	OrganizationID   string
	// Action says what is asked in words: "go live" or "change plan".
	Action string
	// PlanLabel names the plan asked for.
	PlanLabel   string
	Note        string
	RequestedBy string
	// Link is the portal page where tenant administrators resolve it.
	Link string
}

// BillingRequest renders the message that announces a billing request.
func BillingRequest(d BillingRequestData) (Message, error) {
	return render(KindBillingRequest, d.TenantID, d.To, d.OrganizationName+" asks to "+d.Action+" ("+d.PlanLabel+")", d)
}
