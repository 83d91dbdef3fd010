package storage

import "time"

// Onboarding (DESIGN §3 "Just-in-time provisioning" and "Invitations"):
// the mail outbox, single-use email links, organizations' JIT rules and
// invitations.

// MailStatus is where an outbox message is.
type MailStatus string

const (
	// MailPending waits for its next attempt (or is being sent).
	MailPending MailStatus = "pending"
	// MailSent was accepted by the SMTP server.
	MailSent MailStatus = "sent"
	// MailLogged was written to the log because no SMTP server is
	// configured; it stays readable in the outbox.
	MailLogged MailStatus = "logged"
	// MailFailed was given up on after its last attempt.
	MailFailed MailStatus = "failed"
)

// MailMessage is one message in the durable outbox. It is written in the
// transaction of the change that caused it, and a sender drains the
// outbox. Its body holds live links (verification, reset, invitation), so
// the store only ever sees it sealed under the master key.
type MailMessage struct {
	TenantID string
	ID       string
	To       string
	Subject  string
	// Kind names the template: "verify_email", "password_reset", "invitation".
	Kind string
	// BodySealed is the message's text and HTML parts, sealed.
	BodySealed []byte
	Status     MailStatus
	// Attempts counts failed attempts so far.
	Attempts int
	// NextAttemptAt is when the message is due (its creation at first).
	NextAttemptAt time.Time
	// LeaseUntil is zero, or when the sender that claimed the message
	// loses it (a sender that died mid-attempt).
	LeaseUntil time.Time
	// LastError is the last failed attempt's error, for the operator.
	LastError string
	CreatedAt time.Time
	// SentAt is when it was sent or logged; zero before.
	SentAt time.Time
}

// EmailTokenKind is what a single-use email link does.
type EmailTokenKind string

const (
	// EmailTokenVerify verifies the user's email (24 h).
	EmailTokenVerify EmailTokenKind = "verify_email"
	// EmailTokenReset sets a new password (1 h).
	EmailTokenReset EmailTokenKind = "password_reset"
)

// EmailToken is a single-use link sent to a user's address. Only the
// SHA-256 hash of the link's secret is stored.
type EmailToken struct {
	TenantID string
	Hash     []byte
	Kind     EmailTokenKind
	UserID   string
	// Email is the address the link was sent to: it proves that address
	// only, and is refused once the user's email has changed.
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is zero until the link is used.
	UsedAt time.Time
}

// JITRule is an organization's just-in-time provisioning rule: a new user
// whose verified email's domain is one of EmailDomains becomes a member
// with Roles.
type JITRule struct {
	TenantID       string
	OrganizationID string
	// EmailDomains are normalised (lowercase ASCII, IDNA) and sorted; a
	// domain belongs to at most one organization of the tenant.
	EmailDomains []string
	// Roles are the default roles, sorted; nil when never set (the caller
	// then uses "member"), empty when set to none.
	Roles []string
}

// InvitationStatus is an invitation's state. Expired is not stored: a
// pending invitation past ExpiresAt is expired (Invitation.StatusAt).
type InvitationStatus string

const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
	InvitationExpired  InvitationStatus = "expired"
)

// Invitation invites an email into an organization with roles. Only the
// SHA-256 hash of its link's secret is stored; resending replaces it.
type Invitation struct {
	TenantID       string
	ID             string
	OrganizationID string
	Email          string
	// Roles are role names, sorted.
	Roles []string
	// TokenHash is the hash of the current link's secret.
	TokenHash []byte
	// Status is pending, accepted or revoked as stored.
	Status InvitationStatus
	// InviterID is the actor who created it (a user ID or a client ID).
	InviterID string
	// TTL is the lifetime asked for at creation; a resend renews the
	// expiry by it.
	TTL        time.Duration
	ExpiresAt  time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	AcceptedBy string
}

// StatusAt is the invitation's status at now: a pending invitation whose
// expiry has come is expired.
func (i Invitation) StatusAt(now time.Time) InvitationStatus {
	if i.Status == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.Status
}
