package login

import (
	"context"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/orgid/orgid/internal/jit"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Single-use links sent by mail (email verification, password reset): the
// link carries a random secret, the store keeps only its SHA-256 hash
// (storage.EmailToken), and the mail is written to the outbox in the
// transaction that stores the hash, so that neither exists without the
// other.

const (
	verifyLinkTTL = 24 * time.Hour
	resetLinkTTL  = time.Hour
	// maxLinkTokenLen bounds the token parameter; secure.Token makes 43
	// characters, anything much longer is not one of ours.
	maxLinkTokenLen = 128
)

// linkToken returns the token parameter of a link's query or form, or
// "" when it is absent or cannot be one of ours.
func linkToken(v url.Values) string {
	t := v.Get("token")
	if len(t) > maxLinkTokenLen || !utf8.ValidString(t) || hasControl(t) {
		return ""
	}
	return t
}

// issueEmailLink stores a new link of kind to user's current address,
// valid for ttl from now, and returns its secret.
func issueEmailLink(ctx context.Context, tx storage.Store, kind storage.EmailTokenKind, user storage.User, now time.Time, ttl time.Duration) (string, error) {
	token := secure.Token()
	err := tx.CreateEmailToken(ctx, storage.EmailToken{
		TenantID:  user.TenantID,
		Hash:      secure.Hash(token),
		Kind:      kind,
		UserID:    user.ID,
		Email:     user.Email,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	})
	return token, err
}

// linkQuery is "token=…" plus "&authRequestID=…" when the link continues
// a sign-in.
func linkQuery(token, authRequestID string) string {
	q := "token=" + url.QueryEscape(token)
	if authRequestID != "" {
		q += "&authRequestID=" + url.QueryEscape(authRequestID)
	}
	return q
}

// sendVerification issues a verification link for user and queues its
// mail, through tx.
func (h *Handler) sendVerification(ctx context.Context, tx storage.Store, tenant storage.Tenant, user storage.User, authRequestID string, now time.Time) error {
	return h.sendLink(ctx, tx, tenant, user, storage.EmailTokenVerify, "verify-email", verifyLinkTTL, mail.VerifyEmail, authRequestID, now)
}

// sendPasswordReset issues a password-reset link for user and queues its
// mail, through tx.
func (h *Handler) sendPasswordReset(ctx context.Context, tx storage.Store, tenant storage.Tenant, user storage.User, authRequestID string, now time.Time) error {
	return h.sendLink(ctx, tx, tenant, user, storage.EmailTokenReset, "password-reset/new", resetLinkTTL, mail.PasswordReset, authRequestID, now)
}

// sendLink issues a single-use link of kind to page for user, valid for
// ttl, and queues the message render makes of it, through tx.
func (h *Handler) sendLink(ctx context.Context, tx storage.Store, tenant storage.Tenant, user storage.User,
	kind storage.EmailTokenKind, page string, ttl time.Duration, render func(mail.LinkData) (mail.Message, error),
	authRequestID string, now time.Time) error {
	token, err := issueEmailLink(ctx, tx, kind, user, now, ttl)
	if err != nil {
		return err
	}
	msg, err := render(mail.LinkData{
		TenantID: tenant.ID,
		Product:  productName(tenant),
		To:       user.Email,
		Name:     user.Name,
		Link:     h.tenantURL(tenant.ID, page, linkQuery(token, authRequestID)),
		ValidFor: ttl,
	})
	if err != nil {
		return err
	}
	return h.cfg.Mail.Enqueue(ctx, tx, msg)
}

// productName names the sender of mail: the tenant.
func productName(t storage.Tenant) string {
	if t.Name != "" {
		return t.Name
	}
	return "orgid"
}

// verifyEmail stores user with a verified email (and whatever else the
// caller changed in it) and runs just-in-time provisioning, which the
// first verified sight of an email triggers (internal/jit), through tx.
func verifyEmail(ctx context.Context, tx storage.Store, user storage.User, now time.Time) error {
	user.EmailVerified = true
	user.UpdatedAt = now
	if err := tx.UpdateUser(ctx, user); err != nil {
		return err
	}
	_, err := jit.Provision(ctx, tx, user, now)
	return err
}
