package login

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Password reset by mail. GET/POST /password-reset asks for the email and
// answers alike whether or not it has an account (no enumeration, OWASP
// Forgot Password Cheat Sheet); an account gets a single-use link that
// works for an hour. GET/POST /password-reset/new?token=… sets the new
// password, which also proves the mailbox (the email becomes verified)
// and ends every session and refresh token the user had: a reset is what
// someone does who fears their password is known.

// Limits on asking for reset links, per email and per client IP, in one
// window. They count requests, found accounts or not, so that the limit
// itself tells nothing.
const (
	resetPerEmail = 5
	resetPerIP    = 30
	resetWindow   = time.Hour
)

const msgResetSent = "If an account exists for that email, we sent a link to it to choose a new password. The link works for 1 hour."

// getPasswordReset serves GET /password-reset[?authRequestID=…].
func (h *Handler) getPasswordReset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return
	}
	arID, err := h.pendingAuthRequestID(ctx, tenant.ID, r.URL.Query())
	if err != nil {
		h.fail(w, r, "load auth request", err, "tenant", tenant.ID)
		return
	}
	h.renderPasswordReset(w, r, http.StatusOK, tenant.ID, arID, "", nil, "")
}

// postPasswordReset serves POST /password-reset: one answer for every
// well-formed email, a mail only for an account.
func (h *Handler) postPasswordReset(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return
	}
	arID, err := h.pendingAuthRequestID(ctx, tenant.ID, formValues(r))
	if err != nil {
		h.fail(w, r, "load auth request", err, "tenant", tenant.ID)
		return
	}
	email := strings.TrimSpace(r.PostForm.Get(fieldEmail))
	if msg := checkEmail(email); msg != "" {
		h.renderPasswordReset(w, r, http.StatusUnprocessableEntity, tenant.ID, arID, email, fieldErrors{fieldEmail: msg}, "")
		return
	}
	limits := []limit{
		{name: "reset-email", subject: strings.ToLower(email), max: resetPerEmail, window: resetWindow},
		{name: "reset-ip", subject: httpx.ClientIP(r), max: resetPerIP, window: resetWindow},
	}
	blocked, wait, err := h.spend(ctx, tenant.ID, limits)
	if err != nil {
		h.fail(w, r, "read reset counters", err, "tenant", tenant.ID)
		return
	}
	if blocked {
		h.log.WarnContext(ctx, "login: password reset rate limited", "tenant", tenant.ID, "ip", limits[1].subject)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		h.renderPasswordReset(w, r, http.StatusTooManyRequests, tenant.ID, arID, email, nil,
			"Too many requests for reset links. Try again in "+retryAfterText(wait)+".")
		return
	}
	user, err := h.cfg.Store.GetUserByEmail(ctx, tenant.ID, email)
	switch {
	case err == nil:
		now := h.cfg.Now().UTC()
		err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
			return h.sendPasswordReset(ctx, tx, tenant, user, arID, now)
		})
		if err != nil {
			h.fail(w, r, "send password reset link", err, "tenant", tenant.ID)
			return
		}
		h.log.InfoContext(ctx, "login: password reset link sent", "tenant", tenant.ID, "user", user.ID)
	case errors.Is(err, storage.ErrNotFound):
		h.log.InfoContext(ctx, "login: password reset for unknown email", "tenant", tenant.ID, "ip", limits[1].subject)
	default:
		h.fail(w, r, "look up user", err, "tenant", tenant.ID)
		return
	}
	h.message(w, r, http.StatusOK, "Check your inbox", msgResetSent, h.signInLink(tenant.ID, arID))
}

// signInLink leads back to the sign-in of arID, if there is one.
func (h *Handler) signInLink(tenantID, arID string) *pageLink {
	if arID == "" {
		return nil
	}
	return &pageLink{Href: h.pageURL(tenantID, "login", arID), Text: "Back to sign in"}
}

func (h *Handler) renderPasswordReset(w http.ResponseWriter, r *http.Request, status int, tenantID, arID, email string, errs fieldErrors, formError string) {
	h.render(w, r, status, pagePasswordReset, &pageData{
		Title:         "Reset your password",
		AuthRequestID: arID,
		Action:        h.localPath(tenantID, "password-reset"),
		CSRF:          h.csrf.Token(w, r),
		Email:         email,
		Errors:        errs,
		FormError:     formError,
		Link:          h.signInLink(tenantID, arID),
	})
}

// resetLink returns the unused, unexpired reset link of token whose
// address is still its user's; ok is false when the answer (410, or an
// error page) has been written.
func (h *Handler) resetLink(w http.ResponseWriter, r *http.Request, tenantID, token string) (storage.EmailToken, bool) {
	ctx := r.Context()
	if token == "" {
		h.resetLinkGone(w, r)
		return storage.EmailToken{}, false
	}
	et, err := h.cfg.Store.GetEmailToken(ctx, tenantID, storage.EmailTokenReset, secure.Hash(token))
	if errors.Is(err, storage.ErrNotFound) {
		h.resetLinkGone(w, r)
		return et, false
	}
	if err != nil {
		h.fail(w, r, "load reset link", err, "tenant", tenantID)
		return et, false
	}
	if !et.UsedAt.IsZero() || !h.cfg.Now().Before(et.ExpiresAt) {
		h.resetLinkGone(w, r)
		return et, false
	}
	user, err := h.cfg.Store.GetUser(ctx, tenantID, et.UserID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !strings.EqualFold(user.Email, et.Email)) {
		h.resetLinkGone(w, r)
		return et, false
	}
	if err != nil {
		h.fail(w, r, "load user", err, "tenant", tenantID)
		return et, false
	}
	return et, true
}

func (h *Handler) resetLinkGone(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusGone, "Link no longer valid",
		"This link is no longer valid: it has expired or has been used already. Ask for a new one from “Forgot your password?” on the sign-in page.", nil)
}

// getNewPassword serves GET /password-reset/new?token=…: the form, when
// the link can still be used. Nothing is spent by looking.
func (h *Handler) getNewPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	token := linkToken(q)
	et, ok := h.resetLink(w, r, tenant.ID, token)
	if !ok {
		return
	}
	arID, err := h.pendingAuthRequestID(ctx, tenant.ID, q)
	if err != nil {
		h.fail(w, r, "load auth request", err, "tenant", tenant.ID)
		return
	}
	h.renderNewPassword(w, r, http.StatusOK, tenant.ID, arID, token, et.Email, nil)
}

// postNewPassword serves POST /password-reset/new: a password that passes
// the sign-up rules replaces the old one, in one transaction with the
// link's use, the end of every session, and the audit entry.
func (h *Handler) postNewPassword(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return
	}
	token := linkToken(r.PostForm)
	et, ok := h.resetLink(w, r, tenant.ID, token)
	if !ok {
		return
	}
	arID, err := h.pendingAuthRequestID(ctx, tenant.ID, formValues(r))
	if err != nil {
		h.fail(w, r, "load auth request", err, "tenant", tenant.ID)
		return
	}
	plain := r.PostForm.Get(fieldPassword)
	if msg := checkPassword(plain); msg != "" {
		h.renderNewPassword(w, r, http.StatusUnprocessableEntity, tenant.ID, arID, token, et.Email, fieldErrors{fieldPassword: msg})
		return
	}
	hash, err := password.Hash(plain)
	if err != nil {
		h.fail(w, r, "hash password", err)
		return
	}
	user, err := h.resetPassword(ctx, tenant.ID, secure.Hash(token), hash)
	if errors.Is(err, errLinkInvalid) {
		h.resetLinkGone(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, "reset password", err, "tenant", tenant.ID)
		return
	}
	h.log.InfoContext(ctx, "login: password reset", "tenant", tenant.ID, "user", user.ID)
	// This browser's session, if any, ended with the others.
	http.SetCookie(w, httpx.SessionCookie(tenant.ID, "", 0, h.secure))
	msg := "Your password has been changed, and every device signed in to your account has been signed out."
	var link *pageLink
	if arID != "" {
		link = &pageLink{Href: h.pageURL(tenant.ID, "login", arID), Text: "Sign in"}
		msg += " Sign in with your new password."
	} else {
		msg += " Sign in with your new password through your application."
	}
	h.message(w, r, http.StatusOK, "Password changed", msg, link)
}

// resetPassword spends the reset link of tokenHash and sets the user's
// password hash, in one transaction: the email is verified (the link
// reached it), every session and refresh token ends, provisioning runs
// for a newly verified email, and the change is audited. errLinkInvalid
// when the link was spent meanwhile, expired, or its address is no
// longer the user's.
func (h *Handler) resetPassword(ctx context.Context, tenantID string, tokenHash []byte, pwHash string) (storage.User, error) {
	now := h.cfg.Now().UTC()
	var user storage.User
	err := h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		et, err := tx.UseEmailToken(ctx, tenantID, storage.EmailTokenReset, tokenHash, now)
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
			return errLinkInvalid
		}
		if err != nil {
			return err
		}
		user, err = tx.GetUser(ctx, tenantID, et.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			return errLinkInvalid
		}
		if err != nil {
			return err
		}
		if !strings.EqualFold(et.Email, user.Email) {
			return errLinkInvalid
		}
		user.PasswordHash = pwHash
		if err := verifyEmail(ctx, tx, user, now); err != nil {
			return err
		}
		if err := tx.EndUserSessions(ctx, tenantID, user.ID, now); err != nil {
			return err
		}
		return selfAudit(ctx, tx, tenantID, user.ID, auditPasswordReset, now)
	})
	return user, err
}

func (h *Handler) renderNewPassword(w http.ResponseWriter, r *http.Request, status int, tenantID, arID, token, email string, errs fieldErrors) {
	h.render(w, r, status, pageNewPassword, &pageData{
		Title:         "Choose a new password",
		AuthRequestID: arID,
		Action:        h.localPath(tenantID, "password-reset/new"),
		CSRF:          h.csrf.Token(w, r),
		Token:         token,
		Email:         email,
		Errors:        errs,
	})
}
