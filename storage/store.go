package storage

import (
	"context"
	"time"
)

// Store is orgid's durable storage. Every method that reads or writes data
// of a tenant takes the tenant ID and never sees another tenant's rows: a
// record of tenant A looked up from tenant B is ErrNotFound.
//
// Invariants every backend keeps (storagetest checks them):
//   - Create* returns ErrAlreadyExists when the identity or a unique field is
//     taken, and writes nothing.
//   - Get* returns ErrNotFound for a missing record.
//   - Compare-and-set methods (RotateRefreshToken, UpdateSigningKeyState)
//     return ErrConflict when the expected state no longer holds; of two
//     concurrent callers exactly one succeeds.
//   - A backend that cannot be reached returns an error wrapping ErrUnavailable.
type Store interface {
	TenantStore
	UserStore
	OrganizationStore
	ApplicationStore
	SigningKeyStore
	RefreshTokenStore
	TemplateStore
	AuditStore
	MFAStore
	IdentityStore
	MetaStore
	MailStore
	EmailTokenStore
	JITStore
	InvitationStore
	BillingStore
	UsageStore

	// WithTx runs fn against a Store whose writes commit together when fn
	// returns nil and are all rolled back when it returns an error.
	WithTx(ctx context.Context, fn func(tx Store) error) error
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	// DeleteExpired removes refresh tokens and revocations that expired
	// before now, email tokens that expired more than 7 days before now
	// (kept a while so that a late click still gets the "link expired"
	// page), and mail outbox messages sent or logged more than 30 days
	// before now (failed ones: created more than 30 days before now);
	// pending messages and invitations are never removed. It is safe to
	// run on many replicas at once.
	DeleteExpired(ctx context.Context, now time.Time) error
	Close() error
}

// TenantStore keeps tenants.
type TenantStore interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
	// UpdateTenantSettings replaces the tenant's settings. ErrNotFound.
	UpdateTenantSettings(ctx context.Context, tenantID string, s TenantSettings) error
}

// UserStore keeps users. Emails are unique per tenant, case-insensitively.
type UserStore interface {
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, tenantID, id string) (User, error)
	// GetUserByEmail matches the email case-insensitively.
	GetUserByEmail(ctx context.Context, tenantID, email string) (User, error)
	// UpdateUser replaces a user's email, email_verified, name, password
	// hash and updated_at. ErrNotFound; ErrAlreadyExists when the email
	// belongs to another user.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes the user with their memberships, second factors
	// (TOTP factor and recovery codes) and refresh tokens. ErrNotFound
	// when there is no such user.
	DeleteUser(ctx context.Context, tenantID, id string) error
	// ListUserOrganizations returns the organizations the user belongs to
	// with the user's roles, oldest membership first, in one indexed query.
	ListUserOrganizations(ctx context.Context, tenantID, userID string) ([]UserOrganization, error)
	// MarkUserProvisioned records that just-in-time provisioning has run
	// for the user (User.ProvisionedAt = at), by a compare-and-set:
	// ErrConflict when it has run already (of concurrent callers exactly
	// one succeeds); ErrNotFound when there is no such user.
	MarkUserProvisioned(ctx context.Context, tenantID, userID string, at time.Time) error
	// EndUserSessions ends everything the user is signed in with: their
	// sign-in sessions started before at are no longer valid
	// (User.SessionsNotBefore = at) and their refresh tokens are deleted.
	// ErrNotFound when there is no such user.
	EndUserSessions(ctx context.Context, tenantID, userID string, at time.Time) error
	// SetUserTenantRoles replaces the user's tenant roles (User.TenantRoles).
	// ErrNotFound when there is no such user.
	SetUserTenantRoles(ctx context.Context, tenantID, userID string, roles []string) error
	// SearchUsers pages through the tenant's users, oldest first. A
	// non-empty query keeps those whose email or name contains it,
	// case-insensitively (names: ASCII case only on SQLite).
	SearchUsers(ctx context.Context, tenantID, query string, p Page) (users []User, next string, err error)
}

// MFAStore keeps users' second factors: one TOTP factor per user and its
// recovery codes. User.MFAEnabled (GetUser, GetUserByEmail, the user of
// GetRefreshToken) and MemberAccess.UserMFAEnabled reflect a confirmed
// TOTP factor.
type MFAStore interface {
	// PutPendingTOTP starts (or restarts) enrolment: it stores an
	// unconfirmed factor, replacing an unconfirmed one. ErrAlreadyExists
	// when the user has a confirmed factor; ErrNotFound when there is no
	// such user.
	PutPendingTOTP(ctx context.Context, f TOTPFactor) error
	// GetTOTP returns the user's factor, confirmed or not. ErrNotFound.
	GetTOTP(ctx context.Context, tenantID, userID string) (TOTPFactor, error)
	// ConfirmTOTP finishes enrolment in one transaction: the factor is
	// confirmed at at, its LastStep set to step, and the user's recovery
	// codes replaced by codeHashes. ErrNotFound when there is no pending
	// factor; ErrConflict when it is confirmed already or step is not
	// after its LastStep.
	ConfirmTOTP(ctx context.Context, tenantID, userID string, step int64, codeHashes [][]byte, at time.Time) error
	// UseTOTPStep records that a code of step was accepted, by a
	// compare-and-set: ErrConflict when LastStep is already step or later
	// (a replay, or a concurrent use of the same code); ErrNotFound when
	// there is no confirmed factor.
	UseTOTPStep(ctx context.Context, tenantID, userID string, step int64) error
	// UseRecoveryCode spends the unused recovery code with hash codeHash.
	// ErrNotFound when there is none (unknown, or used already); two
	// concurrent uses of one code: exactly one succeeds.
	UseRecoveryCode(ctx context.Context, tenantID, userID string, codeHash []byte, at time.Time) error
	// CountRecoveryCodes returns how many unused recovery codes the user has.
	CountRecoveryCodes(ctx context.Context, tenantID, userID string) (int, error)
	// DeleteMFA removes the user's factor and recovery codes. ErrNotFound
	// when the user has no factor.
	DeleteMFA(ctx context.Context, tenantID, userID string) error
}

// IdentityStore keeps organizations' authentication keys and the users
// their identity services sign in.
type IdentityStore interface {
	// CreateAuthKey stores a key. ErrAlreadyExists when the kid is taken
	// in the tenant; ErrNotFound when the organization does not exist.
	CreateAuthKey(ctx context.Context, k AuthKey) error
	// GetAuthKey finds a key by kid, whatever its status, with its
	// organization. ErrNotFound.
	GetAuthKey(ctx context.Context, tenantID, kid string) (AuthKey, Organization, error)
	// ListAuthKeys returns an organization's keys, oldest first.
	ListAuthKeys(ctx context.Context, tenantID, orgID string) ([]AuthKey, error)
	// RevokeAuthKey marks an active key of orgID revoked at at.
	// ErrNotFound when orgID has no such key; ErrConflict when it is
	// revoked already.
	RevokeAuthKey(ctx context.Context, tenantID, orgID, kid string, at time.Time) error
	// TouchAuthKey sets a key's LastUsedAt to at when at is later (a
	// best-effort write; never an error for an older time, nor for a kid
	// that no longer exists).
	TouchAuthKey(ctx context.Context, tenantID, kid string, at time.Time) error

	// GetExternalIdentity returns the link of (providerID, subject).
	// ErrNotFound.
	GetExternalIdentity(ctx context.Context, tenantID, providerID, subject string) (ExternalIdentity, error)
	// CreateExternalIdentity links a user. ErrAlreadyExists when
	// (providerID, subject) is linked already (two first sign-ins racing:
	// the loser reads the winner's link); ErrNotFound when the user does
	// not exist.
	CreateExternalIdentity(ctx context.Context, x ExternalIdentity) error
}

// OrganizationStore keeps organizations and memberships.
type OrganizationStore interface {
	// CreateOrganization returns ErrAlreadyExists when the ID or the slug is taken.
	CreateOrganization(ctx context.Context, o Organization) error
	GetOrganization(ctx context.Context, tenantID, id string) (Organization, error)
	GetOrganizationBySlug(ctx context.Context, tenantID, slug string) (Organization, error)
	// GetOrganizationByFormerSlug returns the organization that last had
	// slug before renaming itself, so that old links can follow it.
	// ErrNotFound when no organization of the tenant ever gave it up.
	// Callers look up the current slug first: a slug given up may have
	// been taken since.
	GetOrganizationByFormerSlug(ctx context.Context, tenantID, slug string) (Organization, error)
	// ListOrganizations pages through the tenant's organizations, oldest first.
	ListOrganizations(ctx context.Context, tenantID string, p Page) (orgs []Organization, next string, err error)
	// UpdateOrganization replaces every field but ID, TenantID, ProviderID
	// and CreatedAt. ErrNotFound; ErrAlreadyExists when the slug is taken.
	// A slug given up is remembered (GetOrganizationByFormerSlug).
	UpdateOrganization(ctx context.Context, o Organization) error
	// DeleteOrganization removes it with its memberships, custom roles,
	// application links, billing, billing requests and usage, and deletes
	// the applications it owns (with their refresh tokens and links): an
	// owned application serves only its organization. ErrNotFound.
	DeleteOrganization(ctx context.Context, tenantID, id string) error

	// AddMembership returns ErrAlreadyExists when the user is already a
	// member and ErrNotFound when the user or the organization does not exist.
	AddMembership(ctx context.Context, m Membership) error
	// GetMembership returns the membership with its roles; ErrNotFound.
	GetMembership(ctx context.Context, tenantID, orgID, userID string) (Membership, error)
	// ListUserMemberships returns the user's memberships, oldest first.
	ListUserMemberships(ctx context.Context, tenantID, userID string) ([]Membership, error)
	// ListMembers pages through an organization's members, oldest first.
	ListMembers(ctx context.Context, tenantID, orgID string, p Page) (members []Member, next string, err error)
	// SetMemberRoles replaces a member's roles. ErrNotFound when the user
	// is not a member.
	SetMemberRoles(ctx context.Context, tenantID, orgID, userID string, roles []string) error
	// RemoveMembership removes a member. ErrNotFound when not a member.
	RemoveMembership(ctx context.Context, tenantID, orgID, userID string) error
	// CountMembersWithRole counts the organization's members holding role.
	CountMembersWithRole(ctx context.Context, tenantID, orgID, role string) (int, error)
	// GetMemberAccess returns the organization, the user's roles there and
	// the permissions they grant (template and custom roles alike).
	// ErrNotFound when the organization does not exist or the user is not
	// a member: callers must not tell the two apart.
	GetMemberAccess(ctx context.Context, tenantID, orgID, userID string) (MemberAccess, error)
}

// TemplateStore keeps the tenant's organization template (permissions and
// template roles) and organizations' custom roles.
type TemplateStore interface {
	// CreatePermission returns ErrAlreadyExists for a taken name.
	CreatePermission(ctx context.Context, p Permission) error
	// ListPermissions returns the tenant's permissions by name.
	ListPermissions(ctx context.Context, tenantID string) ([]Permission, error)
	// CreateRole stores a template role (OrganizationID empty) or a custom
	// role with its permissions. ErrAlreadyExists when the name is taken in
	// the same scope, or across scopes (a custom role named like a template
	// role, a template role named like some custom role); ErrNotFound when
	// a permission or the organization does not exist.
	CreateRole(ctx context.Context, r Role) error
	// ListRoles returns the template roles and, with orgID, that
	// organization's custom roles, by name.
	ListRoles(ctx context.Context, tenantID, orgID string) ([]Role, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit pages through the tenant's audit log, newest first,
	// keeping the entries that match f.
	ListAudit(ctx context.Context, tenantID string, f AuditFilter, p Page) (entries []AuditEntry, next string, err error)
}

// ApplicationStore keeps OAuth clients.
type ApplicationStore interface {
	CreateApplication(ctx context.Context, a Application) error
	GetApplication(ctx context.Context, tenantID, clientID string) (Application, error)
	// ListApplications pages through the tenant's applications, oldest first.
	ListApplications(ctx context.Context, tenantID string, p Page) (apps []Application, next string, err error)
	// DeleteApplication removes it, its refresh tokens and its links.
	// ErrNotFound.
	DeleteApplication(ctx context.Context, tenantID, clientID string) error
	// SetApplicationSecret replaces the secret hash (rotation: the old
	// secret is dead at once). ErrNotFound.
	SetApplicationSecret(ctx context.Context, tenantID, clientID string, hash []byte) error
	// ListOrganizationApplications pages through the applications owned by
	// orgID, oldest first.
	ListOrganizationApplications(ctx context.Context, tenantID, orgID string, p Page) (apps []Application, next string, err error)

	// LinkApplication links an m2m application to an organization with
	// roles. ErrAlreadyExists when linked already; ErrNotFound when the
	// application or the organization does not exist.
	LinkApplication(ctx context.Context, l ApplicationLink) error
	// SetApplicationLinkRoles replaces the roles of a link. ErrNotFound
	// when the application is not linked to the organization.
	SetApplicationLinkRoles(ctx context.Context, tenantID, orgID, clientID string, roles []string) error
	// UnlinkApplication removes a link. ErrNotFound when there is none.
	UnlinkApplication(ctx context.Context, tenantID, orgID, clientID string) error
	// ListApplicationLinks pages through an organization's linked
	// applications, oldest link first.
	ListApplicationLinks(ctx context.Context, tenantID, orgID string, p Page) (links []ApplicationLink, next string, err error)
	// GetApplicationAccess is "what is this application in this
	// organization" in one query: the application, the organization, the
	// link's roles and the union of their permissions. ErrNotFound when
	// the organization does not exist, the application does not, or it is
	// not linked: callers must not tell these apart.
	GetApplicationAccess(ctx context.Context, tenantID, orgID, clientID string) (ApplicationAccess, error)
}

// SigningKeyStore keeps tenants' token-signing keys.
type SigningKeyStore interface {
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every key of the tenant, whatever its state, oldest first.
	ListSigningKeys(ctx context.Context, tenantID string) ([]SigningKey, error)
	// UpdateSigningKeyState moves key kid from state from to state to and
	// sets its ExpiresAt. ErrNotFound when there is no such key; ErrConflict
	// when it is not in state from.
	UpdateSigningKeyState(ctx context.Context, tenantID, kid string, from, to KeyState, expiresAt time.Time) error
	// DeleteSigningKeysExpiredBefore removes retired keys whose ExpiresAt is before t.
	DeleteSigningKeysExpiredBefore(ctx context.Context, tenantID string, t time.Time) (int, error)
}

// RefreshTokenStore keeps grants' refresh tokens and revocations. A grant
// has at most one refresh token, found by the grant ID (which the token
// value carries); rotating it is a compare-and-set on its current hash, so
// a refresh costs one primary-key read and one single-row update.
type RefreshTokenStore interface {
	// CreateRefreshToken stores the first refresh token of grant
	// rt.Grant.ID. ErrAlreadyExists when the grant has one; ErrConflict
	// (nothing stored) when the grant is already revoked.
	CreateRefreshToken(ctx context.Context, rt RefreshToken) error
	// GetRefreshToken returns the grant's refresh token. ErrNotFound when
	// it has none or the grant is revoked. Expiry is the caller's to check.
	GetRefreshToken(ctx context.Context, tenantID, grantID string) (RefreshToken, error)
	// RotateRefreshToken replaces the refresh token of grant next.Grant.ID
	// with next (its hash, previous hashes and times; the grant itself is
	// unchanged) if and only if the current hash is still oldHash. Of
	// concurrent rotations from one hash exactly one succeeds; the others
	// get ErrConflict and write nothing. ErrNotFound when the grant has no
	// refresh token.
	RotateRefreshToken(ctx context.Context, tenantID string, oldHash []byte, next RefreshToken) error
	// RevokeGrant deletes the grant's refresh token and records the grant
	// ID as revoked until until (when its last access token expires). It is
	// idempotent and works before the grant has a refresh token: creating
	// one afterwards fails with ErrConflict.
	RevokeGrant(ctx context.Context, tenantID, grantID string, until time.Time) error
	// RevokeToken records one access token's jti as revoked until until.
	RevokeToken(ctx context.Context, tenantID, jti string, until time.Time) error
	// IsRevoked reports whether any of ids (grant IDs or jtis) is revoked.
	IsRevoked(ctx context.Context, tenantID string, ids ...string) (bool, error)
}

// MailStore is the durable outbox of mail (internal/mail). Messages are
// written with the change that caused them (inside its WithTx) and
// drained by senders on any number of replicas.
type MailStore interface {
	// EnqueueMail stores a pending message. ErrAlreadyExists when its ID
	// is taken; ErrNotFound when the tenant does not exist.
	EnqueueMail(ctx context.Context, m MailMessage) error
	// ClaimMail leases up to limit pending messages of any tenant that are
	// due at now (NextAttemptAt <= now) and not leased (LeaseUntil zero or
	// before now), oldest due first, setting their LeaseUntil to
	// leaseUntil. Of concurrent claimers each message goes to exactly one.
	ClaimMail(ctx context.Context, now, leaseUntil time.Time, limit int) ([]MailMessage, error)
	// FinishMail records the outcome of an attempt on a claimed message:
	// status MailSent or MailLogged sets SentAt to at; MailPending counts
	// a failed attempt (Attempts+1, LastError, NextAttemptAt = next);
	// MailFailed counts it and gives up. The lease is cleared.
	// ErrNotFound when there is no such message; ErrConflict when it is
	// not pending.
	FinishMail(ctx context.Context, tenantID, id string, status MailStatus, at, next time.Time, lastError string) error
	// GetMail returns a message. ErrNotFound.
	GetMail(ctx context.Context, tenantID, id string) (MailMessage, error)
	// ListMail pages through the tenant's outbox, newest first.
	ListMail(ctx context.Context, tenantID string, p Page) (msgs []MailMessage, next string, err error)
	// CountPendingMail returns how many messages of every tenant are
	// pending (the outbox backlog), leased or not.
	CountPendingMail(ctx context.Context) (int, error)
}

// EmailTokenStore keeps single-use email links (verification, password
// reset), found by the hash of their secret.
type EmailTokenStore interface {
	// CreateEmailToken stores t. ErrAlreadyExists when its hash is taken;
	// ErrNotFound when the user does not exist.
	CreateEmailToken(ctx context.Context, t EmailToken) error
	// GetEmailToken returns the token of kind with hash, used or not,
	// expired or not. ErrNotFound.
	GetEmailToken(ctx context.Context, tenantID string, kind EmailTokenKind, hash []byte) (EmailToken, error)
	// UseEmailToken marks the unused token of kind with hash used at at,
	// if it has not expired at at, and returns it. ErrNotFound when there
	// is no such token; ErrConflict when it is used or expired. Of
	// concurrent uses exactly one succeeds.
	UseEmailToken(ctx context.Context, tenantID string, kind EmailTokenKind, hash []byte, at time.Time) (EmailToken, error)
}

// JITStore keeps organizations' just-in-time provisioning rules.
type JITStore interface {
	// GetJITRule returns the organization's rule (no domains and nil
	// roles when none was set). ErrNotFound when there is no such
	// organization.
	GetJITRule(ctx context.Context, tenantID, orgID string) (JITRule, error)
	// SetJITEmailDomains replaces the organization's domains (already
	// normalised). ErrAlreadyExists, writing nothing, when another
	// organization of the tenant lists one of them; ErrNotFound when
	// there is no such organization.
	SetJITEmailDomains(ctx context.Context, tenantID, orgID string, domains []string) error
	// SetJITRoles replaces the organization's default roles (non-nil).
	// ErrNotFound when there is no such organization.
	SetJITRoles(ctx context.Context, tenantID, orgID string, roles []string) error
	// FindJITRule returns the rule of the organization that lists domain
	// (normalised). ErrNotFound when none does.
	FindJITRule(ctx context.Context, tenantID, domain string) (JITRule, error)
}

// InvitationStore keeps organizations' invitations.
type InvitationStore interface {
	// CreateInvitation stores inv. ErrAlreadyExists when its ID or token
	// hash is taken; ErrNotFound when the organization does not exist.
	CreateInvitation(ctx context.Context, inv Invitation) error
	// GetInvitation returns an invitation of orgID. ErrNotFound.
	GetInvitation(ctx context.Context, tenantID, orgID, id string) (Invitation, error)
	// GetInvitationByToken returns the invitation whose current link has
	// hash, with its organization, whatever its status. ErrNotFound (an
	// unknown link, or one a resend replaced).
	GetInvitationByToken(ctx context.Context, tenantID string, hash []byte) (Invitation, Organization, error)
	// ListInvitations pages through an organization's invitations, oldest
	// first.
	ListInvitations(ctx context.Context, tenantID, orgID string, p Page) (invs []Invitation, next string, err error)
	// RenewInvitation gives a pending invitation (expired or not) a new
	// link hash and expiry, at at: the old link is dead. ErrNotFound;
	// ErrConflict when it is accepted or revoked.
	RenewInvitation(ctx context.Context, tenantID, orgID, id string, hash []byte, expiresAt, at time.Time) error
	// RevokeInvitation revokes a pending invitation (expired or not) at at.
	// ErrNotFound; ErrConflict when it is accepted or revoked already.
	RevokeInvitation(ctx context.Context, tenantID, orgID, id string, at time.Time) error
	// AcceptInvitation marks the invitation accepted by userID at at, by a
	// compare-and-set: it must be pending, unexpired at at, and its link
	// hash still hash. ErrNotFound; ErrConflict otherwise (of concurrent
	// acceptances exactly one succeeds).
	AcceptInvitation(ctx context.Context, tenantID, id string, hash []byte, userID string, at time.Time) error
}

// BillingStore keeps organizations' plans and their billing requests.
type BillingStore interface {
	// GetBilling returns the organization's billing: DefaultBilling when
	// none was ever set. ErrNotFound when there is no such organization.
	GetBilling(ctx context.Context, tenantID, orgID string) (Billing, error)
	// SetBilling sets the organization's plan and live flag (and
	// UpdatedAt). ErrNotFound when there is no such organization.
	SetBilling(ctx context.Context, b Billing) error
	// CreateBillingRequest stores an open request. ErrConflict, writing
	// nothing, when the organization has an open request already (of
	// concurrent creators exactly one succeeds); ErrAlreadyExists when the
	// ID is taken; ErrNotFound when there is no such organization.
	CreateBillingRequest(ctx context.Context, r BillingRequest) error
	// GetBillingRequest returns a request of the tenant. ErrNotFound.
	GetBillingRequest(ctx context.Context, tenantID, id string) (BillingRequest, error)
	// ListBillingRequests pages through the tenant's requests, newest
	// first: of orgID only unless it is "", with status only unless it is
	// "".
	ListBillingRequests(ctx context.Context, tenantID, orgID string, status BillingRequestStatus, p Page) (reqs []BillingRequest, next string, err error)
	// ResolveBillingRequest moves an open request to status (approved or
	// declined) by by at at, by a compare-and-set, and returns it
	// resolved. Approving applies it in the same transaction: the
	// organization's plan becomes the request's, and a go_live makes it
	// live. ErrNotFound; ErrConflict when the request is not open (of
	// concurrent resolvers exactly one succeeds).
	ResolveBillingRequest(ctx context.Context, tenantID, id string, status BillingRequestStatus, by string, at time.Time) (BillingRequest, error)
}

// UsageStore keeps the counters bills are based on: tokens issued per
// (organization, application, month) and active users per (organization,
// month). Writers are batchers on any number of replicas, so every write
// adds to what is stored and never replaces it.
type UsageStore interface {
	// AddUsage adds each count's Tokens to the stored count of its
	// (tenant, organization, client, month) and records each active user
	// (idempotent: recording one twice counts once), all in one
	// transaction. Concurrent calls add up exactly. Rows of an
	// organization or tenant that does not exist (deleted meanwhile)
	// are dropped, not refused, so that one deleted organization cannot
	// hold a batch back.
	AddUsage(ctx context.Context, counts []UsageCount, users []ActiveUser) error
	// ListUsage returns the organization's token counts ("" is the tenant
	// level) for months from fromMonth to toMonth inclusive, by month then
	// client ID.
	ListUsage(ctx context.Context, tenantID, orgID, fromMonth, toMonth string) ([]UsageCount, error)
	// CountActiveUsers returns the organization's number of active users
	// per month, for months from fromMonth to toMonth inclusive; months
	// without any are absent.
	CountActiveUsers(ctx context.Context, tenantID, orgID, fromMonth, toMonth string) (map[string]int, error)
}

// MetaStore keeps deployment-wide values such as the master-key check.
type MetaStore interface {
	// EnsureMeta stores value under key unless a value is already there,
	// and returns the stored value.
	EnsureMeta(ctx context.Context, key string, value []byte) ([]byte, error)
}
