package login

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Email verification (DESIGN §3, §5). Sign-up mails a single-use link
// that works for 24 hours; until it is followed the user's email is
// unverified, and nothing that trusts an email (just-in-time
// provisioning) trusts it. Following the link is one click from a mail
// client, so GET /verify-email?token=… performs the change: the secret in
// the link, not a form, is what proves the mailbox. A signed-in user can
// have the link sent again, a few times a day.

// Limits on sending the verification link again, per user.
const (
	resendPerMinute = 1
	resendPerDay    = 5
)

// errLinkInvalid is a link that is unknown, used, expired, or sent to an
// address the user no longer has: the same page for all of them.
var errLinkInvalid = errors.New("login: link unknown, used, expired or stale")

// getVerifyEmail serves GET /verify-email: with ?token=… it verifies the
// email the link was sent to; without, it is the "check your inbox" page.
func (h *Handler) getVerifyEmail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	arID, err := h.pendingAuthRequestID(ctx, tenant.ID, q)
	if err != nil {
		h.fail(w, r, "load auth request", err, "tenant", tenant.ID)
		return
	}
	if !q.Has("token") {
		h.checkInbox(w, r, tenant, arID)
		return
	}
	token := linkToken(q)
	if token == "" {
		h.verifyLinkGone(w, r, tenant.ID, nil)
		return
	}
	hash := secure.Hash(token)
	now := h.cfg.Now().UTC()
	var user storage.User
	var already bool
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		et, err := tx.UseEmailToken(ctx, tenant.ID, storage.EmailTokenVerify, hash, now)
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
			return errLinkInvalid
		}
		if err != nil {
			return err
		}
		user, err = tx.GetUser(ctx, tenant.ID, et.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			return errLinkInvalid
		}
		if err != nil {
			return err
		}
		// The link proves the address it was sent to, and only that one.
		if !strings.EqualFold(et.Email, user.Email) {
			return errLinkInvalid
		}
		if user.EmailVerified {
			already = true // an older link of a verified address: spent, nothing else
			return nil
		}
		if err := verifyEmail(ctx, tx, user, now); err != nil {
			return err
		}
		return selfAudit(ctx, tx, tenant.ID, user.ID, auditEmailVerify, now)
	})
	if errors.Is(err, errLinkInvalid) {
		h.verifyLinkGone(w, r, tenant.ID, hash)
		return
	}
	if err != nil {
		h.fail(w, r, "verify email", err, "tenant", tenant.ID)
		return
	}
	if !already {
		h.log.InfoContext(ctx, "login: email verified", "tenant", tenant.ID, "user", user.ID)
	}
	h.verified(w, r, tenant.ID, user, arID)
}

// verified is the page of a verified address, with the way back to the
// sign-in it came from, if that still waits.
func (h *Handler) verified(w http.ResponseWriter, r *http.Request, tenantID string, user storage.User, arID string) {
	msg := "Your email address " + user.Email + " is verified."
	var link *pageLink
	if arID != "" {
		link = &pageLink{Href: h.pageURL(tenantID, "login", arID), Text: "Continue"}
	} else {
		msg += " You can close this window."
	}
	h.message(w, r, http.StatusOK, "Email verified", msg, link)
}

// verifyLinkGone answers a verification link that cannot be used, with
// 410 Gone: it will never work again. A used link of an address that is
// verified now says so, so that a second click does not alarm anyone.
func (h *Handler) verifyLinkGone(w http.ResponseWriter, r *http.Request, tenantID string, hash []byte) {
	ctx := r.Context()
	if hash != nil {
		et, err := h.cfg.Store.GetEmailToken(ctx, tenantID, storage.EmailTokenVerify, hash)
		if err == nil && !et.UsedAt.IsZero() {
			u, err := h.cfg.Store.GetUser(ctx, tenantID, et.UserID)
			if err == nil && u.EmailVerified && strings.EqualFold(u.Email, et.Email) {
				h.message(w, r, http.StatusGone, "Link already used",
					"This link is no longer valid because it has been used already. Your email address is verified; there is nothing more to do.", nil)
				return
			}
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.log.WarnContext(ctx, "login: look up used verification link", "tenant", tenantID, "err", err)
		}
	}
	h.message(w, r, http.StatusGone, "Link no longer valid",
		"This link is no longer valid: it has expired, has been used already, or was sent to an address your account no longer has. Sign in and open the email verification page to get a new one.", nil)
}

// checkInbox is GET /verify-email without a token: where a signed-in user
// whose email is unverified can have the link sent again.
func (h *Handler) checkInbox(w http.ResponseWriter, r *http.Request, tenant storage.Tenant, arID string) {
	ctx := r.Context()
	sess, _, err := h.currentSession(w, r, tenant.ID)
	if err != nil {
		h.fail(w, r, "load session", err, "tenant", tenant.ID)
		return
	}
	if sess == nil {
		h.message(w, r, http.StatusOK, "Check your inbox",
			"We sent you a link to verify your email address; open it to finish. If it has not arrived, sign in and come back to this page to have it sent again.", nil)
		return
	}
	user, err := h.cfg.Store.GetUser(ctx, tenant.ID, sess.UserID)
	if err != nil {
		h.fail(w, r, "load user", err, "tenant", tenant.ID)
		return
	}
	if user.EmailVerified {
		h.verified(w, r, tenant.ID, user, arID)
		return
	}
	h.render(w, r, http.StatusOK, pageVerifyEmail, &pageData{
		Title:         "Check your inbox",
		Heading:       "Check your inbox",
		Message:       "We sent a link to " + user.Email + ". Open it to verify your email address; it works for 24 hours. Not there? Look in your spam folder, or have it sent again.",
		CanResend:     true,
		Action:        h.localPath(tenant.ID, "verify-email/resend"),
		CSRF:          h.csrf.Token(w, r),
		AuthRequestID: arID,
	})
}

// postVerifyResend serves POST /verify-email/resend: a new link for the
// signed-in user, at most resendPerMinute a minute and resendPerDay a
// day. Earlier links keep working until they expire.
func (h *Handler) postVerifyResend(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	a, ok := h.loadAccount(w, r, formValues(r))
	if !ok {
		return
	}
	ctx := r.Context()
	tenantID := a.tenant.ID
	if a.user.EmailVerified {
		h.verified(w, r, tenantID, a.user, a.authRequestID)
		return
	}
	limits := []limit{
		{name: "verify-resend-minute", subject: a.user.ID, max: resendPerMinute, window: time.Minute},
		{name: "verify-resend-day", subject: a.user.ID, max: resendPerDay, window: 24 * time.Hour},
	}
	blocked, wait, err := h.spend(ctx, tenantID, limits)
	if err != nil {
		h.fail(w, r, "read resend counters", err, "tenant", tenantID)
		return
	}
	d := &pageData{
		Title:         "Check your inbox",
		Heading:       "Check your inbox",
		AuthRequestID: a.authRequestID,
	}
	if blocked {
		h.log.InfoContext(ctx, "login: verification resend rate limited", "tenant", tenantID, "user", a.user.ID)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		d.FormError = "A link was sent recently. You can ask for another in " + retryAfterText(wait) + "."
		d.Message = "Look for the link we sent to " + a.user.Email + ", in your spam folder too."
		h.render(w, r, http.StatusTooManyRequests, pageVerifyEmail, d)
		return
	}
	now := h.cfg.Now().UTC()
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		return h.sendVerification(ctx, tx, a.tenant, a.user, a.authRequestID, now)
	})
	if err != nil {
		h.fail(w, r, "send verification link", err, "tenant", tenantID)
		return
	}
	h.log.InfoContext(ctx, "login: verification link sent again", "tenant", tenantID, "user", a.user.ID)
	d.Message = "We sent a new link to " + a.user.Email + ". It can take a few minutes to arrive; it works for 24 hours."
	if a.authRequestID != "" {
		d.Link = &pageLink{Href: h.pageURL(tenantID, "login", a.authRequestID), Text: "Continue"}
	}
	h.render(w, r, http.StatusOK, pageVerifyEmail, d)
}
