package login

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// The signed-in forms of the security page besides TOTP: password
// change, new recovery codes, and signing out the user's other sessions.
//
// Sessions live in the ephemeral store under their secret ID only, with
// no index by user, so the page cannot list them; it shows when this
// browser's session started, and "Sign out other sessions" ends all the
// others at once (User.SessionsNotBefore, which every session read
// checks, and the refresh tokens), then gives this browser a fresh one.

// Security form names and fields.
const (
	formPassword      = "password"
	formRecovery      = "recovery"
	formTOTP          = "totp"
	fieldNewPassword  = "new_password"
	msgWrongPassword  = "That password is not right."
	msgEnterPassword  = "Enter your current password."
	recoveryRevealTTL = 10 * time.Minute
)

type passwordCheck int

const (
	passwordRight passwordCheck = iota
	passwordWrong
	passwordMissing
	passwordBlocked
)

// checkCurrentPassword verifies the signed-in user's password, under the
// sign-in failure limits (a session left open must not become a
// password-guessing oracle); a wrong one counts as a failed sign-in.
// wait is how long a blocked user waits.
func (h *Handler) checkCurrentPassword(r *http.Request, a *account, plain string) (passwordCheck, time.Duration, error) {
	ctx := r.Context()
	if plain == "" {
		return passwordMissing, 0, nil
	}
	limits := h.signInLimits(r, a.user.Email)
	blocked, wait, err := h.limited(ctx, a.tenant.ID, limits)
	if err != nil || blocked {
		return passwordBlocked, wait, err
	}
	if h.checkPassword(r, a.user, a.user.PasswordHash != "", plain) {
		return passwordRight, 0, nil
	}
	if err := h.recordFailure(ctx, a.tenant.ID, limits); err != nil {
		return passwordWrong, 0, err
	}
	h.log.InfoContext(ctx, "login: wrong current password", "tenant", a.tenant.ID, "user", a.user.ID)
	return passwordWrong, 0, nil
}

// passwordRefusal is the status and field message of a password that was
// not right (Retry-After set when blocked).
func (h *Handler) passwordRefusal(w http.ResponseWriter, c passwordCheck, wait time.Duration) (int, string) {
	switch c {
	case passwordMissing:
		return http.StatusUnprocessableEntity, msgEnterPassword
	case passwordBlocked:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		return http.StatusTooManyRequests, "Too many failed attempts. Try again in " + retryAfterText(wait) + "."
	}
	return http.StatusUnprocessableEntity, msgWrongPassword
}

// renewSession replaces the browser's session with a fresh one of the
// same sign-in (its time and methods), created at now: what survives
// EndUserSessions(now) for the browser that asked for it.
func (h *Handler) renewSession(w http.ResponseWriter, r *http.Request, a *account, now time.Time) error {
	ctx := r.Context()
	sid := secure.Token()
	sess := &storage.Session{
		TenantID:  a.tenant.ID,
		UserID:    a.user.ID,
		AuthTime:  a.sess.AuthTime,
		AMR:       slices.Clone(a.sess.AMR),
		CreatedAt: now,
	}
	if err := h.cfg.State.PutSession(ctx, sid, sess, h.cfg.SessionTTL); err != nil {
		return err
	}
	if err := h.cfg.State.DeleteSession(ctx, a.tenant.ID, a.sid); err != nil {
		h.log.WarnContext(ctx, "login: delete replaced session", "tenant", a.tenant.ID, "err", err)
	}
	http.SetCookie(w, httpx.SessionCookie(a.tenant.ID, sid, h.cfg.SessionTTL, h.secure))
	a.sess, a.sid = sess, sid
	return nil
}

// endOtherSessions ends every session and refresh token of the user at
// now, with change (when not nil) and the audit entry in the same
// transaction, then renews this browser's session.
func (h *Handler) endOtherSessions(w http.ResponseWriter, r *http.Request, a *account, action string, change func(tx storage.Store, u *storage.User) error) error {
	ctx := r.Context()
	now := h.cfg.Now().UTC()
	err := h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if change != nil {
			u, err := tx.GetUser(ctx, a.tenant.ID, a.user.ID)
			if err != nil {
				return err
			}
			if err := change(tx, &u); err != nil {
				return err
			}
		}
		if err := tx.EndUserSessions(ctx, a.tenant.ID, a.user.ID, now); err != nil {
			return err
		}
		return selfAudit(ctx, tx, a.tenant.ID, a.user.ID, action, now)
	})
	if err != nil {
		return err
	}
	return h.renewSession(w, r, a, now)
}

// postPassword serves POST /account/security/password: the current
// password (when the user has one) and a new one that passes the sign-up
// rules. Every other session and refresh token ends; this browser stays
// signed in.
func (h *Handler) postPassword(w http.ResponseWriter, r *http.Request) {
	a, ok := h.postedAccount(w, r)
	if !ok {
		return
	}
	refuse := func(status int, field, msg string) {
		h.showSecurity(w, r, a, status, &accountForm{Name: formPassword, Errors: fieldErrors{field: msg}})
	}
	if a.user.PasswordHash != "" {
		res, wait, err := h.checkCurrentPassword(r, a, r.PostForm.Get(fieldCurrentPwd))
		if err != nil {
			h.fail(w, r, "check password", err, "tenant", a.tenant.ID)
			return
		}
		if res != passwordRight {
			status, msg := h.passwordRefusal(w, res, wait)
			refuse(status, fieldCurrentPwd, msg)
			return
		}
	}
	plain := r.PostForm.Get(fieldNewPassword)
	if msg := checkPassword(plain); msg != "" {
		refuse(http.StatusUnprocessableEntity, fieldNewPassword, msg)
		return
	}
	hash, err := password.Hash(plain)
	if err != nil {
		h.fail(w, r, "hash password", err)
		return
	}
	err = h.endOtherSessions(w, r, a, auditPasswordChange, func(tx storage.Store, u *storage.User) error {
		u.PasswordHash, u.UpdatedAt = hash, h.cfg.Now().UTC()
		return tx.UpdateUser(r.Context(), *u)
	})
	if err != nil {
		h.fail(w, r, "change password", err, "tenant", a.tenant.ID)
		return
	}
	h.log.InfoContext(r.Context(), "login: password changed", "tenant", a.tenant.ID, "user", a.user.ID)
	h.done(w, r, h.accountPath(a.tenant.ID, "/security"), "password-changed")
}

// postSignOutOthers serves POST /account/security/sessions.
func (h *Handler) postSignOutOthers(w http.ResponseWriter, r *http.Request) {
	a, ok := h.postedAccount(w, r)
	if !ok {
		return
	}
	if err := h.endOtherSessions(w, r, a, auditSessionsEnd, nil); err != nil {
		h.fail(w, r, "end other sessions", err, "tenant", a.tenant.ID)
		return
	}
	h.log.InfoContext(r.Context(), "login: other sessions ended", "tenant", a.tenant.ID, "user", a.user.ID)
	h.done(w, r, h.accountPath(a.tenant.ID, "/security"), "others-signed-out")
}

// postRecoveryCodes serves POST /account/security/recovery-codes: with a
// current code from the authenticator app, or the password, ten new
// recovery codes replace the old ones, and are shown once.
func (h *Handler) postRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	a, ok := h.postedAccount(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	tenantID := a.tenant.ID
	if !a.user.MFAEnabled {
		h.showSecurity(w, r, a, http.StatusConflict, &accountForm{Name: formRecovery, Message: "Turn on two-step verification first."})
		return
	}
	refuse := func(status int, field, msg string) {
		h.showSecurity(w, r, a, status, &accountForm{Name: formRecovery, Errors: fieldErrors{field: msg}})
	}
	if code := strings.TrimSpace(r.PostForm.Get(fieldCode)); code != "" {
		limits := h.signInLimits(r, a.user.Email)
		blocked, wait, err := h.limited(ctx, tenantID, limits)
		if err != nil {
			h.fail(w, r, "read sign-in counters", err, "tenant", tenantID)
			return
		}
		if blocked {
			status, msg := h.passwordRefusal(w, passwordBlocked, wait)
			refuse(status, fieldCode, msg)
			return
		}
		err = h.checkTOTP(ctx, tenantID, a.user.ID, code)
		if errors.Is(err, errBadCode) {
			if err := h.recordFailure(ctx, tenantID, limits); err != nil {
				h.fail(w, r, "count failed attempt", err, "tenant", tenantID)
				return
			}
			refuse(http.StatusUnprocessableEntity, fieldCode, "That code is not right. Enter the current code from your authenticator app.")
			return
		}
		if err != nil {
			h.fail(w, r, "check second factor", err, "tenant", tenantID)
			return
		}
	} else {
		if a.user.PasswordHash == "" {
			refuse(http.StatusUnprocessableEntity, fieldCode, "Enter the current code from your authenticator app.")
			return
		}
		res, wait, err := h.checkCurrentPassword(r, a, r.PostForm.Get(fieldCurrentPwd))
		if err != nil {
			h.fail(w, r, "check password", err, "tenant", tenantID)
			return
		}
		if res != passwordRight {
			status, msg := h.passwordRefusal(w, res, wait)
			if res == passwordMissing {
				msg = "Enter your password or a code from your authenticator app."
			}
			refuse(status, fieldCurrentPwd, msg)
			return
		}
	}
	codes, hashes := mfa.NewRecoveryCodes(h.recoveryKey)
	now := h.cfg.Now().UTC()
	err := h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := replaceRecoveryCodes(ctx, tx, tenantID, a.user.ID, hashes, now); err != nil {
			return err
		}
		return selfAudit(ctx, tx, tenantID, a.user.ID, auditRecoveryCodes, now)
	})
	if errors.Is(err, storage.ErrNotFound) { // the factor was removed meanwhile
		h.showSecurity(w, r, a, http.StatusConflict, &accountForm{Name: formRecovery, Message: "Turn on two-step verification first."})
		return
	}
	if err != nil {
		h.fail(w, r, "replace recovery codes", err, "tenant", tenantID)
		return
	}
	h.log.InfoContext(ctx, "login: recovery codes replaced", "tenant", tenantID, "user", a.user.ID)
	h.showCodesOnce(w, r, a, codes, "recovery-codes-new")
}

// replaceRecoveryCodes gives the user's confirmed factor the recovery
// codes hashes, through tx (which must be a transaction). The store has
// no call for only that, so it re-enrols the same factor: delete it,
// store its sealed secret as pending again, and confirm it with its
// confirmation time and last step, which ConfirmTOTP does together with
// replacing the codes. The last step becomes at least the current time
// step, so that a code seen before cannot be replayed even if a sign-in
// spent a newer step between the read and the delete. ErrNotFound when
// the user has no confirmed factor.
func replaceRecoveryCodes(ctx context.Context, tx storage.Store, tenantID, userID string, hashes [][]byte, now time.Time) error {
	f, err := tx.GetTOTP(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	if !f.Confirmed() {
		return storage.ErrNotFound
	}
	last := max(f.LastStep, mfa.Step(now))
	if err := tx.DeleteMFA(ctx, tenantID, userID); err != nil {
		return err
	}
	err = tx.PutPendingTOTP(ctx, storage.TOTPFactor{
		TenantID: tenantID, UserID: userID, SecretSealed: f.SecretSealed, LastStep: last - 1, CreatedAt: f.CreatedAt,
	})
	if err != nil {
		return err
	}
	return tx.ConfirmTOTP(ctx, tenantID, userID, last, hashes, f.ConfirmedAt)
}

// Recovery codes are shown once, on the page the form's redirect leads
// to: they cross the redirect sealed in the ephemeral store, under a
// random key that the redirect names (?reveal=) and that only this user
// can open, and the page deletes them as it reads them.

func revealKey(tenantID, userID, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "t/" + tenantID + "/recovery-reveal/" + userID + "/" + hex.EncodeToString(sum[:])
}

// showCodesOnce keeps codes for the next page and redirects there, with
// notice in account mode.
func (h *Handler) showCodesOnce(w http.ResponseWriter, r *http.Request, a *account, codes []string, notice string) {
	ctx := r.Context()
	b, err := json.Marshal(codes)
	if err != nil {
		h.fail(w, r, "keep recovery codes", err)
		return
	}
	key := secure.Token()
	k := revealKey(a.tenant.ID, a.user.ID, key)
	sealed, err := h.cfg.Sealer.Seal(b, []byte(k))
	if err == nil {
		err = h.cfg.State.KV.Set(ctx, k, sealed, recoveryRevealTTL)
	}
	if err != nil {
		h.fail(w, r, "keep recovery codes", err, "tenant", a.tenant.ID)
		return
	}
	to := h.accountPath(a.tenant.ID, "/security/recovery-codes") + "?reveal=" + url.QueryEscape(key)
	if a.authRequestID != "" {
		h.seeOther(w, r, to+"&authRequestID="+url.QueryEscape(a.authRequestID))
		return
	}
	h.done(w, r, to, notice)
}

// getRecoveryCodes serves GET /account/security/recovery-codes?reveal=…:
// the codes of the last enrolment or regeneration, once; afterwards the
// security page.
func (h *Handler) getRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	a, ok := h.loadAccount(w, r, r.URL.Query())
	if !ok {
		return
	}
	ctx := r.Context()
	var codes []string
	if key := r.URL.Query().Get("reveal"); len(key) == secure.TokenLen {
		k := revealKey(a.tenant.ID, a.user.ID, key)
		sealed, err := h.cfg.State.KV.Get(ctx, k)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			h.fail(w, r, "load recovery codes", err, "tenant", a.tenant.ID)
			return
		}
		if err == nil {
			if err := h.cfg.State.KV.Delete(ctx, k); err != nil {
				h.fail(w, r, "load recovery codes", err, "tenant", a.tenant.ID)
				return
			}
			if b, err := h.cfg.Sealer.Open(sealed, []byte(k)); err == nil {
				_ = json.Unmarshal(b, &codes)
			}
		}
	}
	if len(codes) == 0 { // shown already (a reload), or expired
		h.seeOther(w, r, h.securityURL(a))
		return
	}
	if a.authRequestID != "" {
		h.render(w, r, http.StatusOK, pageRecoveryCodes, &pageData{
			Title:         "Your recovery codes",
			RecoveryCodes: codes,
			Link:          &pageLink{Href: h.pageURL(a.tenant.ID, "login", a.authRequestID), Text: "Continue"},
		})
		return
	}
	h.renderAccount(w, r, a, http.StatusOK, pageAccountCodes, "Your recovery codes", "security", nil, &codesData{
		Codes: codes, Back: h.accountPath(a.tenant.ID, "/security"),
	})
}

type codesData struct {
	Codes []string
	Back  string
}
