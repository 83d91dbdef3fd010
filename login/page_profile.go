package login

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// The profile page (/account): the user's name, and their email, which
// changes only once the new address has proved itself. A change asks for
// the current password (when the user has one: a session left open is
// not enough to take over the account's address), then mails a single-use
// link to the new address; following the link makes it the account's
// verified email. Until then the page shows the pending address, and the
// old one keeps working.
//
// The link is an email token of its own kind, whose Email is the new
// address (the kinds are opaque to the store, so no schema change). Which
// request is current lives in the ephemeral store beside it (the page's
// "pending" line): a second request replaces the first, whose link then
// no longer works, and Cancel ends it. The record also holds the address
// the change is from, so that a link does not apply after the email
// changed some other way meanwhile.

// emailTokenChange is the link that makes its Email the user's email.
const emailTokenChange storage.EmailTokenKind = "change_email"

// Limits on email-change mails, per user.
const (
	emailChangePerMinute = 1
	emailChangePerDay    = 5
)

// Profile form names and fields.
const (
	formName        = "name"
	formEmail       = "email"
	fieldNewEmail   = "email"
	fieldCurrentPwd = "current_password"
)

// pendingEmailChange is the current email-change request of a user.
type pendingEmailChange struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Hash is the hex SHA-256 of the link's secret.
	Hash      string    `json:"hash"`
	ExpiresAt time.Time `json:"expires_at"`
}

func emailChangeKey(tenantID, userID string) string {
	return "t/" + tenantID + "/email-change/" + userID
}

// pendingEmail returns the user's current email-change request, or nil.
func (h *Handler) pendingEmail(ctx context.Context, tenantID, userID string) (*pendingEmailChange, error) {
	b, err := h.cfg.State.KV.Get(ctx, emailChangeKey(tenantID, userID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p pendingEmailChange
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if !h.cfg.Now().Before(p.ExpiresAt) {
		return nil, nil
	}
	return &p, nil
}

type profileData struct {
	Name          string
	Email         string
	EmailVerified bool
	// Pending is the address a change waits for, or "".
	Pending     string
	HasPassword bool
	Action      string // the profile's path, for form actions
}

// getProfile serves GET /account.
func (h *Handler) getProfile(w http.ResponseWriter, r *http.Request) {
	a, ok := h.loadAccount(w, r, nil)
	if !ok {
		return
	}
	h.showProfile(w, r, a, http.StatusOK, nil)
}

func (h *Handler) showProfile(w http.ResponseWriter, r *http.Request, a *account, status int, form *accountForm) {
	p, err := h.pendingEmail(r.Context(), a.tenant.ID, a.user.ID)
	if err != nil {
		h.fail(w, r, "load email change", err, "tenant", a.tenant.ID)
		return
	}
	d := &profileData{
		Name: a.user.Name, Email: a.user.Email, EmailVerified: a.user.EmailVerified,
		HasPassword: a.user.PasswordHash != "", Action: h.accountPath(a.tenant.ID, ""),
	}
	if p != nil && strings.EqualFold(p.From, a.user.Email) {
		d.Pending = p.To
	}
	h.renderAccount(w, r, a, status, pageAccountProfile, "Profile", "profile", form, d)
}

// postedAccount reads and checks a posted account form and loads the
// signed-in account; ok is false when the answer has been written.
func (h *Handler) postedAccount(w http.ResponseWriter, r *http.Request) (*account, bool) {
	if !h.readForm(w, r) {
		return nil, false
	}
	return h.loadAccount(w, r, nil)
}

// postName serves POST /account/name.
func (h *Handler) postName(w http.ResponseWriter, r *http.Request) {
	a, ok := h.postedAccount(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	name := strings.TrimSpace(r.PostForm.Get(fieldName))
	if msg := checkName(name); msg != "" {
		h.showProfile(w, r, a, http.StatusUnprocessableEntity, &accountForm{
			Name: formName, Values: map[string]string{fieldName: name}, Errors: fieldErrors{fieldName: msg},
		})
		return
	}
	now := h.cfg.Now().UTC()
	err := h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		u, err := tx.GetUser(ctx, a.tenant.ID, a.user.ID)
		if err != nil {
			return err
		}
		u.Name, u.UpdatedAt = name, now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return selfAudit(ctx, tx, a.tenant.ID, a.user.ID, auditProfileUpdate, now)
	})
	if err != nil {
		h.fail(w, r, "save name", err, "tenant", a.tenant.ID)
		return
	}
	h.done(w, r, h.accountPath(a.tenant.ID, ""), "name-saved")
}

// postEmail serves POST /account/email: the current password, then a
// link to the new address.
func (h *Handler) postEmail(w http.ResponseWriter, r *http.Request) {
	a, ok := h.postedAccount(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	tenantID := a.tenant.ID
	newEmail := strings.TrimSpace(r.PostForm.Get(fieldNewEmail))
	refuse := func(status int, field, msg string) {
		f := &accountForm{Name: formEmail, Values: map[string]string{fieldNewEmail: newEmail}}
		if field == "" {
			f.Message = msg
		} else {
			f.Errors = fieldErrors{field: msg}
		}
		h.showProfile(w, r, a, status, f)
	}
	if msg := checkEmail(newEmail); msg != "" {
		refuse(http.StatusUnprocessableEntity, fieldNewEmail, msg)
		return
	}
	if strings.EqualFold(newEmail, a.user.Email) {
		refuse(http.StatusUnprocessableEntity, fieldNewEmail, "This is already your email.")
		return
	}
	if a.user.PasswordHash != "" {
		res, wait, err := h.checkCurrentPassword(r, a, r.PostForm.Get(fieldCurrentPwd))
		if err != nil {
			h.fail(w, r, "check password", err, "tenant", tenantID)
			return
		}
		if res != passwordRight {
			status, msg := h.passwordRefusal(w, res, wait)
			refuse(status, fieldCurrentPwd, msg)
			return
		}
	}
	// An address another account has: the same answer as sign-up gives.
	_, err := h.cfg.Store.GetUserByEmail(ctx, tenantID, newEmail)
	if err == nil {
		refuse(http.StatusConflict, fieldNewEmail, msgEmailTaken)
		return
	}
	if !errors.Is(err, storage.ErrNotFound) {
		h.fail(w, r, "look up user", err, "tenant", tenantID)
		return
	}
	blocked, wait, err := h.spend(ctx, tenantID, []limit{
		{name: "email-change-minute", subject: a.user.ID, max: emailChangePerMinute, window: time.Minute},
		{name: "email-change-day", subject: a.user.ID, max: emailChangePerDay, window: 24 * time.Hour},
	})
	if err != nil {
		h.fail(w, r, "read email change counters", err, "tenant", tenantID)
		return
	}
	if blocked {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		refuse(http.StatusTooManyRequests, "", "A link was sent recently. You can ask for another in "+retryAfterText(wait)+".")
		return
	}
	now := h.cfg.Now().UTC()
	to := a.user
	to.Email = newEmail
	var token string
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		var err error
		token, err = h.sendEmailChange(ctx, tx, a.tenant, to, now)
		return err
	})
	if err != nil {
		h.fail(w, r, "send email change link", err, "tenant", tenantID)
		return
	}
	hash := secure.Hash(token)
	p, err := json.Marshal(pendingEmailChange{From: a.user.Email, To: newEmail, Hash: hex.EncodeToString(hash), ExpiresAt: now.Add(verifyLinkTTL)})
	if err == nil {
		err = h.cfg.State.KV.Set(ctx, emailChangeKey(tenantID, a.user.ID), p, verifyLinkTTL)
	}
	if err != nil {
		h.fail(w, r, "store email change", err, "tenant", tenantID)
		return
	}
	h.log.InfoContext(ctx, "login: email change link sent", "tenant", tenantID, "user", a.user.ID)
	h.done(w, r, h.accountPath(tenantID, ""), "email-sent")
}

// sendEmailChange issues the change link for user (whose Email is the
// new address) and queues its mail to that address, through tx.
func (h *Handler) sendEmailChange(ctx context.Context, tx storage.Store, tenant storage.Tenant, user storage.User, now time.Time) (string, error) {
	token, err := issueEmailLink(ctx, tx, emailTokenChange, user, now, verifyLinkTTL)
	if err != nil {
		return "", err
	}
	msg, err := mail.VerifyEmail(mail.LinkData{
		TenantID: tenant.ID,
		Product:  productName(tenant),
		To:       user.Email,
		Name:     user.Name,
		Link:     h.tenantURL(tenant.ID, "account/email/confirm", linkQuery(token, "")),
		ValidFor: verifyLinkTTL,
	})
	if err != nil {
		return "", err
	}
	return token, h.cfg.Mail.Enqueue(ctx, tx, msg)
}

// postEmailCancel serves POST /account/email/cancel: the pending change's
// link stops working.
func (h *Handler) postEmailCancel(w http.ResponseWriter, r *http.Request) {
	a, ok := h.postedAccount(w, r)
	if !ok {
		return
	}
	if err := h.cfg.State.KV.Delete(r.Context(), emailChangeKey(a.tenant.ID, a.user.ID)); err != nil {
		h.fail(w, r, "cancel email change", err, "tenant", a.tenant.ID)
		return
	}
	h.done(w, r, h.accountPath(a.tenant.ID, ""), "email-cancelled")
}

// errNewEmailTaken is a change to an address another account took meanwhile.
var errNewEmailTaken = errors.New("login: new email belongs to another account")

// getEmailConfirm serves GET /account/email/confirm?token=…: like the
// verification link, one click from a mail client performs the change,
// in any browser; the secret in the link proves the new mailbox, and the
// request behind it was made with the password.
func (h *Handler) getEmailConfirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return
	}
	token := linkToken(r.URL.Query())
	if token == "" {
		h.emailLinkGone(w, r)
		return
	}
	hash := secure.Hash(token)
	et, err := h.cfg.Store.GetEmailToken(ctx, tenant.ID, emailTokenChange, hash)
	if errors.Is(err, storage.ErrNotFound) {
		h.emailLinkGone(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, "load email change link", err, "tenant", tenant.ID)
		return
	}
	p, err := h.pendingEmail(ctx, tenant.ID, et.UserID)
	if err != nil {
		h.fail(w, r, "load email change", err, "tenant", tenant.ID)
		return
	}
	// Only the user's current request counts: a replaced or cancelled
	// one's link is dead.
	if p == nil || p.Hash != hex.EncodeToString(hash) || !strings.EqualFold(p.To, et.Email) {
		h.emailLinkGone(w, r)
		return
	}
	now := h.cfg.Now().UTC()
	var user storage.User
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if _, err := tx.UseEmailToken(ctx, tenant.ID, emailTokenChange, hash, now); err != nil {
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
				return errLinkInvalid
			}
			return err
		}
		var err error
		user, err = tx.GetUser(ctx, tenant.ID, et.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			return errLinkInvalid
		}
		if err != nil {
			return err
		}
		if !strings.EqualFold(user.Email, p.From) {
			return errLinkInvalid // the email changed some other way meanwhile
		}
		user.Email = et.Email
		err = verifyEmail(ctx, tx, user, now)
		if errors.Is(err, storage.ErrAlreadyExists) {
			return errNewEmailTaken
		}
		if err != nil {
			return err
		}
		return selfAudit(ctx, tx, tenant.ID, user.ID, auditEmailChange, now)
	})
	switch {
	case errors.Is(err, errLinkInvalid):
		h.emailLinkGone(w, r)
		return
	case errors.Is(err, errNewEmailTaken):
		h.message(w, r, http.StatusConflict, "Email not changed",
			"Another account uses "+et.Email+" now, so it cannot become your email. Your email is unchanged.", nil)
		return
	case err != nil:
		h.fail(w, r, "change email", err, "tenant", tenant.ID)
		return
	}
	if err := h.cfg.State.KV.Delete(ctx, emailChangeKey(tenant.ID, user.ID)); err != nil {
		// The link is spent; a stale "pending" line is all that is left.
		h.log.WarnContext(ctx, "login: delete email change record", "tenant", tenant.ID, "err", err)
	}
	h.log.InfoContext(ctx, "login: email changed", "tenant", tenant.ID, "user", user.ID)
	sess, _, err := h.currentSession(w, r, tenant.ID)
	if err == nil && sess != nil && sess.UserID == user.ID {
		h.done(w, r, h.accountPath(tenant.ID, ""), "email-changed")
		return
	}
	h.message(w, r, http.StatusOK, "Email changed",
		"Your email address is now "+user.Email+". Use it the next time you sign in.", nil)
}

func (h *Handler) emailLinkGone(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusGone, "Link no longer valid",
		"This link is no longer valid: it has expired, has been used already, or a newer change of your email replaced it. Your email is unchanged.", nil)
}
