package storage

import (
	"encoding/json"
	"time"
)

// Page asks for one page of a list: at most Size items (0 means
// DefaultPageSize; the store caps it at MaxPageSize) after the opaque
// cursor After that the previous page returned ("" for the first page).
// Cursors are keyset positions, so pages stay stable while rows are added.
type Page struct {
	Size  int
	After string
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Limit returns the page size to use.
func (p Page) Limit() int {
	switch {
	case p.Size <= 0:
		return DefaultPageSize
	case p.Size > MaxPageSize:
		return MaxPageSize
	}
	return p.Size
}

// Permission is an organization permission of a tenant's organization
// template, such as "read:invoices".
type Permission struct {
	TenantID    string
	Name        string
	Description string
	CreatedAt   time.Time
}

// Role is an organization role: a template role (OrganizationID empty)
// that every organization of the tenant has, or a custom role of one
// organization. Names are unique within the template, and a custom role
// may not take a template role's name.
type Role struct {
	TenantID       string
	ID             string
	OrganizationID string
	Name           string
	Description    string
	// Permissions are permission names, sorted.
	Permissions []string
	CreatedAt   time.Time
}

// Member is a membership with the user's email and name, as member lists
// show them.
type Member struct {
	Membership
	Email string
	Name  string
}

// UserOrganization is an organization a user belongs to, with the user's
// roles there (sorted).
type UserOrganization struct {
	ID    string
	Name  string
	Slug  string
	Roles []string
}

// MemberAccess is what a user is in one organization: the organization,
// the user's roles there and the permissions those roles grant (both
// sorted). It is what every organization token is made from.
type MemberAccess struct {
	Organization Organization
	Roles        []string
	Permissions  []string
	// UserMFAEnabled says the member has a confirmed second factor, for
	// organizations that require one (read in the same query).
	UserMFAEnabled bool
}

// AuditEntry records one change: who (Actor: a client ID or a user ID)
// did what (Action, e.g. "organization.create") to what (Target) in which
// request.
type AuditEntry struct {
	TenantID  string
	ID        string
	Actor     string
	Action    string
	Target    string
	RequestID string
	// Details is a JSON object; nil means {}.
	Details   json.RawMessage
	CreatedAt time.Time
}

// AuditFilter selects audit entries; an empty field matches everything.
type AuditFilter struct {
	// Actor and Target match exactly.
	Actor  string
	Target string
	// Action matches the action itself and the actions under it:
	// "member" matches "member" and "member.add", not "members".
	Action string
}

// Built-in organization permissions: what the built-in roles grant.
var BuiltinPermissions = []Permission{
	{Name: "read:organization", Description: "See the organization's settings"},
	{Name: "write:organization", Description: "Change the organization's settings"},
	{Name: "delete:organization", Description: "Delete the organization"},
	{Name: "read:members", Description: "See members and their roles"},
	{Name: "write:members", Description: "Add, invite and remove members and change their roles"},
	{Name: "read:roles", Description: "See the organization's roles"},
	{Name: "write:roles", Description: "Create and change the organization's custom roles"},
	{Name: "read:applications", Description: "See the organization's applications"},
	{Name: "write:applications", Description: "Create and change the organization's applications"},
	{Name: "read:keys", Description: "See the organization's authentication keys"},
	{Name: "write:keys", Description: "Create and revoke authentication keys"},
	{Name: "read:billing", Description: "See usage, plan and statements"},
	{Name: "write:billing", Description: "Change the plan and request going live"},
}

// BuiltinRoles are the template roles every tenant has from its creation.
var BuiltinRoles = []Role{
	{Name: RoleOwner, Description: "Full control, including billing and deleting the organization", Permissions: []string{
		"delete:organization", "read:applications", "read:billing", "read:keys", "read:members", "read:organization", "read:roles",
		"write:applications", "write:billing", "write:keys", "write:members", "write:organization", "write:roles"}},
	{Name: RoleAdmin, Description: "Manages members, roles, applications, keys and settings", Permissions: []string{
		"read:applications", "read:keys", "read:members", "read:organization", "read:roles",
		"write:applications", "write:keys", "write:members", "write:organization", "write:roles"}},
	{Name: RoleMember, Description: "Belongs to the organization", Permissions: []string{
		"read:members", "read:organization", "read:roles"}},
	{Name: RoleBillingManager, Description: "Manages the plan and sees usage and statements", Permissions: []string{
		"read:billing", "read:organization", "write:billing"}},
}

// ApplicationLink is an m2m application linked to an organization: it gets
// organization tokens for it holding Roles (DESIGN §3, way 4). An
// application may be linked to several organizations.
type ApplicationLink struct {
	TenantID       string
	OrganizationID string
	ClientID       string
	// Roles are role names (template or the organization's custom), sorted.
	Roles     []string
	CreatedAt time.Time
}

// ApplicationAccess is what an m2m application is in one organization.
type ApplicationAccess struct {
	Application  Application
	Organization Organization
	Roles        []string
	Permissions  []string
}

// AuthKeyStatus is an organization authentication key's state.
type AuthKeyStatus string

const (
	AuthKeyActive  AuthKeyStatus = "active"
	AuthKeyRevoked AuthKeyStatus = "revoked"
)

// AuthKey is an organization's authentication key (DESIGN §3 "Identity
// tokens"): the public half of a key its identity service signs identity
// tokens with. orgid never stores the private half.
type AuthKey struct {
	TenantID       string
	OrganizationID string
	// KID is unique per tenant: an identity token's kid names the key,
	// and through it the organization.
	KID string
	// Alg is the key's one algorithm: ES256, RS256 or EdDSA.
	Alg string
	// PublicJWK is the public key as a JSON Web Key (JSON).
	PublicJWK  []byte
	Status     AuthKeyStatus
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
	RevokedAt  time.Time // zero unless revoked
}

// ExternalIdentity links a user to the subject an organization's identity
// service knows them by.
type ExternalIdentity struct {
	TenantID   string
	ProviderID string // the organization's provider ID (the tokens' iss)
	Subject    string // the identity service's user ID (sub or prn)
	UserID     string
	CreatedAt  time.Time
}
