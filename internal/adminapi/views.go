package adminapi

import (
	"encoding/json"
	"time"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// The JSON forms of stored records (DESIGN §4). Arrays are never null and
// times are RFC 3339 in UTC.

type organizationView struct {
	ID          string          `json:"id"`
	TenantID    string          `json:"tenant_id"`
	Name        string          `json:"name"`
	Slug        string          `json:"slug"`
	Description string          `json:"description"`
	LogoURL     string          `json:"logo_url"`
	LogoDarkURL string          `json:"logo_dark_url"`
	CustomData  json.RawMessage `json:"custom_data"`
	MFARequired bool            `json:"mfa_required"`
	MFAPolicy   string          `json:"mfa_policy"`
	ProviderID  string          `json:"provider_id"`
	CreatedAt   time.Time       `json:"created_at"`
}

func viewOrganization(o storage.Organization) organizationView {
	v := organizationView{
		ID: o.ID, TenantID: o.TenantID, Name: o.Name, Slug: o.Slug, Description: o.Description,
		LogoURL: o.LogoURL, LogoDarkURL: o.LogoDarkURL, CustomData: o.CustomData, MFARequired: o.MFARequired,
		MFAPolicy: o.MFAPolicy, ProviderID: o.ProviderID, CreatedAt: o.CreatedAt.UTC(),
	}
	if len(v.CustomData) == 0 {
		v.CustomData = json.RawMessage("{}")
	}
	if v.MFAPolicy == "" {
		v.MFAPolicy = manage.MFAConfigured
	}
	return v
}

type permissionView struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func viewPermission(p storage.Permission) permissionView {
	return permissionView{Name: p.Name, Description: p.Description}
}

type roleView struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	// OrganizationID is set on an organization's custom role only.
	OrganizationID string `json:"organization_id,omitempty"`
}

func viewRole(r storage.Role) roleView {
	return roleView{ID: r.ID, Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions), OrganizationID: r.OrganizationID}
}

type memberView struct {
	UserID   string    `json:"user_id"`
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Roles    []string  `json:"roles"`
	JoinedAt time.Time `json:"joined_at"`
}

func viewMember(m storage.Member) memberView {
	return memberView{UserID: m.UserID, Email: m.Email, Name: m.Name, Roles: nonNil(m.Roles), JoinedAt: m.JoinedAt.UTC()}
}

type userView struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"`
	MFAEnabled    bool      `json:"mfa_enabled"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func viewUser(u storage.User) userView {
	return userView{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, MFAEnabled: u.MFAEnabled,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

type userOrganizationView struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Slug  string   `json:"slug"`
	Roles []string `json:"roles"`
}

func viewUserOrganization(o storage.UserOrganization) userOrganizationView {
	return userOrganizationView{ID: o.ID, Name: o.Name, Slug: o.Slug, Roles: nonNil(o.Roles)}
}

type applicationView struct {
	ID                     string   `json:"id"`
	ClientID               string   `json:"client_id"`
	ClientSecret           string   `json:"client_secret,omitempty"`
	Name                   string   `json:"name"`
	Type                   string   `json:"type"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	OrganizationID         string   `json:"organization_id,omitempty"`
	TenantRoles            []string `json:"tenant_roles"`
	IDTokenAlg             string   `json:"id_token_signed_response_alg"`
	// JWKS is the JWK Set of an application that authenticates with
	// private_key_jwt; absent for the others.
	JWKS      json.RawMessage `json:"jwks,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

func viewApplication(a storage.Application) applicationView {
	alg := a.IDTokenAlg
	if alg == "" {
		alg = "RS256"
	}
	return applicationView{
		ID: a.ClientID, ClientID: a.ClientID, Name: a.Name, Type: string(a.Type),
		RedirectURIs: nonNil(a.RedirectURIs), PostLogoutRedirectURIs: nonNil(a.PostLogoutRedirectURIs),
		OrganizationID: a.OrganizationID, TenantRoles: nonNil(a.TenantRoles), IDTokenAlg: alg, JWKS: a.JWKS, CreatedAt: a.CreatedAt.UTC(),
	}
}

// applicationLinkView is an m2m application linked to an organization.
type applicationLinkView struct {
	ApplicationID  string    `json:"application_id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	Roles          []string  `json:"roles"`
	CreatedAt      time.Time `json:"created_at"`
}

func viewApplicationLink(l manage.LinkedApplication) applicationLinkView {
	return applicationLinkView{
		ApplicationID: l.ClientID, OrganizationID: l.OrganizationID, Name: l.Name, Roles: nonNil(l.Roles), CreatedAt: l.CreatedAt.UTC(),
	}
}

type tenantView struct {
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Issuer    string    `json:"issuer"`
	CreatedAt time.Time `json:"created_at"`
	// AdminClient is in the creation answer only.
	AdminClient *clientCredentials `json:"admin_client,omitempty"`
}

type clientCredentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type auditView struct {
	ID        string          `json:"id"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	RequestID string          `json:"request_id"`
	Details   json.RawMessage `json:"details"`
	CreatedAt time.Time       `json:"created_at"`
}

func viewAudit(e storage.AuditEntry) auditView {
	v := auditView{ID: e.ID, Actor: e.Actor, Action: e.Action, Target: e.Target, RequestID: e.RequestID, Details: e.Details, CreatedAt: e.CreatedAt.UTC()}
	if len(v.Details) == 0 {
		v.Details = json.RawMessage("{}")
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// invitationView never holds the link: its secret is only in the mail.
type invitationView struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Email          string    `json:"email"`
	Roles          []string  `json:"roles"`
	Status         string    `json:"status"`
	ExpiresAt      time.Time `json:"expires_at"`
	CreatedAt      time.Time `json:"created_at"`
	InviterID      string    `json:"inviter_id"`
}

// viewInvitation shows an invitation as manage returns it: its Status is
// the status at the time of the call (expired included).
func viewInvitation(i storage.Invitation) invitationView {
	return invitationView{
		ID: i.ID, OrganizationID: i.OrganizationID, Email: i.Email, Roles: nonNil(i.Roles), Status: string(i.Status),
		ExpiresAt: i.ExpiresAt.UTC(), CreatedAt: i.CreatedAt.UTC(), InviterID: i.InviterID,
	}
}

// mailView is an outbox message without its parts.
type mailView struct {
	ID        string    `json:"id"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	// SentAt is null until the message was sent or logged.
	SentAt *time.Time `json:"sent_at"`
	// NextAttemptAt is null unless the message is pending.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

func viewMail(m storage.MailMessage) mailView {
	v := mailView{ID: m.ID, To: m.To, Subject: m.Subject, Kind: m.Kind, Status: string(m.Status), Attempts: m.Attempts,
		LastError: m.LastError, CreatedAt: m.CreatedAt.UTC(), SentAt: optionalTime(m.SentAt)}
	if m.Status == storage.MailPending {
		v.NextAttemptAt = optionalTime(m.NextAttemptAt)
	}
	return v
}

// mailBodyView is one outbox message with its parts.
type mailBodyView struct {
	mailView
	TextBody string `json:"text_body"`
	HTMLBody string `json:"html_body"`
}
