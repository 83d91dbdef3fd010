package storage

import (
	"encoding/json"
	"time"
)

// DefaultTenant is the tenant that exists from the first start.
const DefaultTenant = "default"

// Tenant is an isolated namespace with its own issuer, keys, users,
// organizations and applications. Its ID is the slug used in URLs (/t/{id}).
type Tenant struct {
	ID        string
	Name      string
	Settings  TenantSettings
	CreatedAt time.Time
}

// TenantSettings are per-tenant switches.
type TenantSettings struct {
	// PersonalOrganization: a user who signs up gets an organization they own.
	PersonalOrganization bool `json:"personal_organization"`
	// SupportEmail receives the tenant's billing requests; "" for none.
	SupportEmail string `json:"support_email,omitempty"`
	// BillingPortalURL is the external page where organizations manage
	// their payment method (orgid processes no cards); "" for none.
	BillingPortalURL string `json:"billing_portal_url,omitempty"`
}

// DefaultTenantSettings are the settings of a new tenant.
func DefaultTenantSettings() TenantSettings {
	return TenantSettings{PersonalOrganization: true}
}

// User is a person with an account in one tenant. ID is the `sub` of their
// tokens. Email is unique per tenant, compared case-insensitively.
type User struct {
	TenantID      string
	ID            string
	Email         string
	EmailVerified bool
	Name          string
	// PasswordHash is a PHC-format argon2id hash; empty when the user has no password.
	PasswordHash string
	// MFAEnabled says the user has a confirmed second factor (TOTP). It is
	// read from the factors, never written through UpdateUser.
	MFAEnabled bool
	// ProvisionedAt is when just-in-time provisioning ran for the user
	// (once, the first time their email was seen verified); zero before.
	// Users that existed before JIT did have their creation time. It is
	// written by MarkUserProvisioned only.
	ProvisionedAt time.Time
	// SessionsNotBefore: sign-in sessions started before it are ended (a
	// password reset). Written by EndUserSessions only.
	SessionsNotBefore time.Time
	// TenantRoles are the user's roles in the tenant itself (not in an
	// organization): TenantRoleAdmin makes them a tenant administrator.
	// Written by SetUserTenantRoles only.
	TenantRoles []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TOTPFactor is a user's authenticator-app factor (RFC 6238).
type TOTPFactor struct {
	TenantID string
	UserID   string
	// SecretSealed is the TOTP secret sealed under the master key (the
	// store never sees it in the clear).
	SecretSealed []byte
	// ConfirmedAt is zero while enrolment waits for the first code.
	ConfirmedAt time.Time
	// LastStep is the last time step a code was accepted for; a code of
	// that step or an earlier one is never accepted again.
	LastStep  int64
	CreatedAt time.Time
}

// Confirmed says enrolment finished.
func (f TOTPFactor) Confirmed() bool { return !f.ConfirmedAt.IsZero() }

// Organization is a named group of members inside a tenant. Slug is unique
// per tenant.
type Organization struct {
	TenantID    string
	ID          string
	Name        string
	Slug        string
	Description string
	LogoURL     string
	LogoDarkURL string
	// CustomData is a JSON object; nil means {}.
	CustomData  json.RawMessage
	MFARequired bool
	// MFAPolicy is "configured" (default) or "verified".
	MFAPolicy  string
	ProviderID string
	CreatedAt  time.Time
}

// Built-in organization roles.
const (
	RoleOwner          = "owner"
	RoleAdmin          = "admin"
	RoleMember         = "member"
	RoleBillingManager = "billing_manager"
)

// Membership places a user in an organization with zero or more roles.
type Membership struct {
	TenantID       string
	OrganizationID string
	UserID         string
	Roles          []string
	JoinedAt       time.Time
}

// ApplicationType is the kind of OAuth client.
type ApplicationType string

const (
	// AppWeb is a confidential client using the authorization code flow.
	AppWeb ApplicationType = "web"
	// AppSPA is a public browser client: authorization code + PKCE S256.
	AppSPA ApplicationType = "spa"
	// AppNative is a public mobile/desktop client: authorization code + PKCE S256.
	AppNative ApplicationType = "native"
	// AppM2M is a confidential client using client credentials only.
	AppM2M ApplicationType = "m2m"
)

// Valid reports whether t is one of the known application types.
func (t ApplicationType) Valid() bool {
	switch t {
	case AppWeb, AppSPA, AppNative, AppM2M:
		return true
	}
	return false
}

// Public reports whether clients of this type hold no secret.
func (t ApplicationType) Public() bool { return t == AppSPA || t == AppNative }

// TenantRoleAdmin is the tenant role that grants the management API.
const TenantRoleAdmin = "admin"

// Application is an OAuth client. ClientID doubles as the application's id.
type Application struct {
	TenantID string
	ClientID string
	Name     string
	Type     ApplicationType
	// SecretHash is SHA-256 of the client secret (secrets are 256-bit random,
	// so a slow hash buys nothing); nil for public clients.
	SecretHash             []byte
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// OrganizationID is set when the application is owned by one
	// organization: a web, spa or native app then signs in only that
	// organization's members, and an m2m app gets tokens only for it.
	OrganizationID string
	TenantRoles    []string
	// JWKS is the public key set (a JSON Web Key Set document) of an
	// application that authenticates with private_key_jwt (RFC 7523);
	// nil when it uses a client secret or none.
	JWKS []byte
	// IDTokenAlg is the ID token signing algorithm; empty means RS256.
	IDTokenAlg string
	CreatedAt  time.Time
}

// KeyState is where a signing key is in its rotation.
type KeyState string

const (
	// KeyNext is published in the JWKS but does not sign yet.
	KeyNext KeyState = "next"
	// KeyActive signs new tokens (one per tenant and algorithm).
	KeyActive KeyState = "active"
	// KeyRetired no longer signs; it stays published until ExpiresAt, when
	// every token it signed has expired.
	KeyRetired KeyState = "retired"
)

// SigningKey is a tenant's token-signing key. The store only ever sees the
// private key sealed (AES-GCM under the master key).
type SigningKey struct {
	TenantID  string
	ID        string // kid
	Algorithm string // RS256, ES256, EdDSA
	State     KeyState
	// PrivateKey is the sealed private key.
	PrivateKey []byte
	// PublicJWK is the public key as a JSON Web Key.
	PublicJWK []byte
	CreatedAt time.Time
	// ExpiresAt is zero until the key retires; then it is when the key may
	// leave the JWKS.
	ExpiresAt time.Time
}

// Grant is one authorization a user gave a client. A code exchange starts
// it; its refresh tokens rotate inside it; revoking it kills every token it
// issued. Its ID prefixes the jti of its access tokens, so a revoked grant
// is visible from an access token alone.
type Grant struct {
	ID       string
	ClientID string
	UserID   string
	Scopes   []string
	// Audience is what the grant's access tokens are for.
	Audience []string
	AuthTime time.Time
	AMR      []string
	ACR      string
	// OrganizationID binds the grant to one organization (a sign-in with
	// organization=): its tokens are organization tokens for it.
	OrganizationID string
}

// MaxPreviousRefreshTokens is how many rotated-out refresh tokens of a
// grant are remembered, so that presenting one of them again is recognised
// as reuse (RFC 9700 §4.14.2) and revokes the grant.
const MaxPreviousRefreshTokens = 8

// RefreshToken is a grant's current refresh token. A grant has one: a
// rotation replaces its hash in place and moves the old hash to the front
// of PreviousHashes. Only SHA-256 hashes of token values are stored.
type RefreshToken struct {
	TenantID  string
	TokenHash []byte
	// PreviousHashes are the hashes of the tokens this one replaced, newest
	// first, at most MaxPreviousRefreshTokens of them.
	PreviousHashes [][]byte
	Grant          Grant
	// CreatedAt is when the current token was issued; ExpiresAt when it
	// stops working (and the grant with it, unless it is rotated first).
	CreatedAt time.Time
	ExpiresAt time.Time
	// User is the grant's user as stored now, read with the token so that
	// a refresh (whose ID token carries the user's claims) needs one read.
	// Zero when the user no longer exists; PasswordHash is never filled.
	// It is not written by Create or Rotate.
	User User
}

// Rotated returns the token that replaces rt: the same grant with a new
// hash, issued at issuedAt, and rt's hash remembered as the newest
// previous one.
func (rt RefreshToken) Rotated(newHash []byte, issuedAt, expiresAt time.Time) RefreshToken {
	prev := make([][]byte, 0, MaxPreviousRefreshTokens)
	prev = append(prev, rt.TokenHash)
	for _, h := range rt.PreviousHashes {
		if len(prev) == MaxPreviousRefreshTokens {
			break
		}
		prev = append(prev, h)
	}
	rt.TokenHash, rt.PreviousHashes = newHash, prev
	rt.CreatedAt, rt.ExpiresAt = issuedAt, expiresAt
	rt.User = User{}
	return rt
}
