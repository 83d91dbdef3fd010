package login

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

// The account security page (/account/security) enrols and removes the
// TOTP factor of the signed-in user (DESIGN §5). Enrolment shows the QR
// code (served from this origin: the CSP's img-src) and the secret as
// text, confirms one code, then shows ten recovery codes once. Opened with
// ?authRequestID=… it is the enrolment step of a sign-in that asked for
// MFA, and leads back to it.

const (
	actionConfirm = "confirm"
	actionRemove  = "remove"
	// qrSize matches internal/mfa's enrolment image.
	qrSize = 200
)

// account is what the security page works on: the signed-in user and,
// when the page is a step of a sign-in, its auth request.
type account struct {
	tenant storage.Tenant
	sess   *storage.Session
	sid    string
	user   storage.User
	// authRequestID is the sign-in to continue afterwards, if any.
	authRequestID string
}

// loadAccount requires a signed-in session. Without one, a sign-in step
// goes back to the password form; an account page opened on its own
// (GET) signs in through the portal, which is orgid's own client of the
// tenant and comes back to the page; a form posted without one is
// refused with 401.
func (h *Handler) loadAccount(w http.ResponseWriter, r *http.Request, v url.Values) (*account, bool) {
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return nil, false
	}
	a := &account{tenant: tenant}
	arID, err := h.pendingAuthRequestID(ctx, tenant.ID, v)
	if err != nil {
		h.fail(w, r, "load auth request", err, "tenant", tenant.ID)
		return nil, false
	}
	a.authRequestID = arID
	sess, sid, err := h.currentSession(w, r, tenant.ID)
	if err != nil {
		h.fail(w, r, "load session", err, "tenant", tenant.ID)
		return nil, false
	}
	if sess == nil {
		if a.authRequestID != "" {
			h.seeOther(w, r, h.pageURL(tenant.ID, "login", a.authRequestID))
			return nil, false
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.seeOther(w, r, h.portalSignIn(tenant.ID, r.URL.Path))
			return nil, false
		}
		// A form cannot be replayed after a sign-in: say what happened.
		h.message(w, r, http.StatusUnauthorized, "Sign in first",
			"Your session has ended. Sign in again, then repeat what you were doing.",
			&pageLink{Href: h.portalSignIn(tenant.ID, h.accountPath(tenant.ID, "")), Text: "Sign in"})
		return nil, false
	}
	user, err := h.cfg.Store.GetUser(ctx, tenant.ID, sess.UserID)
	if err != nil {
		h.fail(w, r, "load user", err, "tenant", tenant.ID)
		return nil, false
	}
	a.sess, a.sid, a.user = sess, sid, user
	return a, true
}

// portalSignIn is the portal's sign-in that comes back to returnTo (a
// path of this tenant's pages).
func (h *Handler) portalSignIn(tenantID, returnTo string) string {
	return h.basePath + "/t/" + url.PathEscape(tenantID) + "/portal/login?return_to=" + url.QueryEscape(returnTo)
}

// pendingAuthRequestID returns the authRequestID of v when it names an
// auth request of the tenant that is still waiting for its sign-in, or
// "": pages that may be a step of a sign-in (or not) lead back to it.
func (h *Handler) pendingAuthRequestID(ctx context.Context, tenantID string, v url.Values) (string, error) {
	id := authRequestID(v)
	if id == "" {
		return "", nil
	}
	ar, err := h.cfg.State.AuthRequest(ctx, tenantID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case ar.Done || ar.Error != "":
		return "", nil
	}
	return ar.ID, nil
}

func (a *account) issuer() string {
	if a.tenant.Name != "" {
		return a.tenant.Name
	}
	return "orgid"
}

// getSecurity shows the factor, or starts enrolment: a pending factor is
// kept across reloads so that the QR code already scanned stays valid.
func (h *Handler) getSecurity(w http.ResponseWriter, r *http.Request) {
	a, ok := h.loadAccount(w, r, r.URL.Query())
	if !ok {
		return
	}
	h.showSecurity(w, r, a, http.StatusOK, nil)
}

// showSecurity renders the security page with form (the refused form,
// or nil): on the card layout as a step of a sign-in, in the shell on its
// own.
func (h *Handler) showSecurity(w http.ResponseWriter, r *http.Request, a *account, status int, form *accountForm) {
	d, ok := h.securityState(w, r, a)
	if !ok {
		return
	}
	if a.authRequestID == "" {
		h.renderAccount(w, r, a, status, pageAccountSecurity, "Security", "security", form, d)
		return
	}
	var formError string
	if form != nil {
		formError = form.Message
		if formError == "" {
			formError = form.Errors[fieldCode]
		}
	}
	h.render(w, r, status, pageSecurity, &pageData{
		Title:         "Two-step verification",
		AuthRequestID: a.authRequestID,
		CSRF:          h.csrf.Token(w, r),
		FormError:     formError,
		Focus:         fieldCode,
		MFAEnabled:    d.MFAEnabled,
		RecoveryLeft:  d.RecoveryLeft,
		Secret:        d.Secret,
		QRURL:         d.QRURL,
	})
}

// securityData is what the security page shows.
type securityData struct {
	MFAEnabled   bool
	RecoveryLeft int
	// Secret and QRURL are the pending factor's, while not enrolled.
	Secret string
	QRURL  string

	HasPassword bool
	// SessionStarted and AuthTime are this browser's session's.
	SessionStarted time.Time
	AuthTime       time.Time
	// Action is the security page's path, for form actions.
	Action string
}

// securityState reads the user's factor, or starts enrolment: a pending
// factor is kept across reloads so that the QR code already scanned
// stays valid. ok is false when the answer has been written.
func (h *Handler) securityState(w http.ResponseWriter, r *http.Request, a *account) (*securityData, bool) {
	ctx := r.Context()
	d := &securityData{
		HasPassword:    a.user.PasswordHash != "",
		SessionStarted: a.sess.CreatedAt,
		AuthTime:       a.sess.AuthTime,
		Action:         h.accountPath(a.tenant.ID, "/security"),
	}
	f, err := h.cfg.Store.GetTOTP(ctx, a.tenant.ID, a.user.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.fail(w, r, "load TOTP factor", err, "tenant", a.tenant.ID)
		return nil, false
	}
	if err == nil && f.Confirmed() {
		n, err := h.cfg.Store.CountRecoveryCodes(ctx, a.tenant.ID, a.user.ID)
		if err != nil {
			h.fail(w, r, "count recovery codes", err, "tenant", a.tenant.ID)
			return nil, false
		}
		d.MFAEnabled, d.RecoveryLeft = true, n
		return d, true
	}
	var secret string
	if err == nil {
		plain, oerr := h.cfg.Sealer.Open(f.SecretSealed, totpAAD(a.tenant.ID, a.user.ID))
		if oerr != nil {
			h.log.WarnContext(ctx, "login: pending TOTP secret unreadable; starting over", "tenant", a.tenant.ID, "user", a.user.ID, "err", oerr)
		}
		secret = string(plain)
	}
	if secret == "" {
		en, err := mfa.NewTOTP(a.issuer(), a.user.Email)
		if err != nil {
			h.fail(w, r, "new TOTP secret", err)
			return nil, false
		}
		sealed, err := h.cfg.Sealer.Seal([]byte(en.Secret), totpAAD(a.tenant.ID, a.user.ID))
		if err != nil {
			h.fail(w, r, "seal TOTP secret", err)
			return nil, false
		}
		err = h.cfg.Store.PutPendingTOTP(ctx, storage.TOTPFactor{
			TenantID: a.tenant.ID, UserID: a.user.ID, SecretSealed: sealed, CreatedAt: h.cfg.Now().UTC(),
		})
		if errors.Is(err, storage.ErrAlreadyExists) { // confirmed meanwhile
			h.seeOther(w, r, h.securityURL(a))
			return nil, false
		}
		if err != nil {
			h.fail(w, r, "store pending TOTP factor", err, "tenant", a.tenant.ID)
			return nil, false
		}
		secret = en.Secret
	}
	d.Secret = secret
	d.QRURL = h.accountPath(a.tenant.ID, "/security/totp.png")
	return d, true
}

func (h *Handler) securityURL(a *account) string {
	u := h.external + "/t/" + url.PathEscape(a.tenant.ID) + "/account/security"
	if a.authRequestID != "" {
		u += "?authRequestID=" + url.QueryEscape(a.authRequestID)
	}
	return u
}

// pendingTOTP returns the user's unconfirmed factor with its secret
// opened; found is false when the user has none or theirs is confirmed.
func (h *Handler) pendingTOTP(ctx context.Context, a *account) (f storage.TOTPFactor, secret string, found bool, err error) {
	f, err = h.cfg.Store.GetTOTP(ctx, a.tenant.ID, a.user.ID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && f.Confirmed()) {
		return f, "", false, nil
	}
	if err != nil {
		return f, "", false, err
	}
	b, err := h.cfg.Sealer.Open(f.SecretSealed, totpAAD(a.tenant.ID, a.user.ID))
	if err != nil {
		return f, "", false, fmt.Errorf("open TOTP secret: %w", err)
	}
	return f, string(b), true, nil
}

// getTOTPImage serves the QR code of the pending factor; a confirmed
// factor's secret is never shown again.
func (h *Handler) getTOTPImage(w http.ResponseWriter, r *http.Request) {
	a, ok := h.loadAccount(w, r, nil)
	if !ok {
		return
	}
	_, secret, found, err := h.pendingTOTP(r.Context(), a)
	if err != nil {
		h.fail(w, r, "pending TOTP factor", err, "tenant", a.tenant.ID)
		return
	}
	if !found {
		ui.SetPageHeaders(w.Header())
		http.NotFound(w, r)
		return
	}
	img, err := qrPNG(a.issuer(), a.user.Email, secret)
	if err != nil {
		h.fail(w, r, "QR code", err)
		return
	}
	ui.SetPageHeaders(w.Header())
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	w.Write(img)
}

// qrPNG draws the otpauth key URI of secret (Google Authenticator's Key
// Uri Format, with the parameters internal/mfa uses) as a PNG.
func qrPNG(issuer, account, secret string) ([]byte, error) {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	key, err := otp.NewKeyFromURL(u.String())
	if err != nil {
		return nil, err
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// postSecurity confirms enrolment with a code, or removes the factor
// with a current code or a recovery code.
func (h *Handler) postSecurity(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	a, ok := h.loadAccount(w, r, formValues(r))
	if !ok {
		return
	}
	switch r.PostForm.Get("action") {
	case actionConfirm:
		h.confirmTOTP(w, r, a)
	case actionRemove:
		h.removeTOTP(w, r, a)
	default:
		h.message(w, r, http.StatusBadRequest, "Form not readable",
			"The form could not be read. Go back and try again.", nil)
	}
}

// confirmTOTP finishes enrolment: the code proves the app has the
// secret. The session is renewed with amr otp, since the user has just
// used the factor, so that a sign-in that asked for MFA can continue.
func (h *Handler) confirmTOTP(w http.ResponseWriter, r *http.Request, a *account) {
	ctx := r.Context()
	f, secret, found, err := h.pendingTOTP(ctx, a)
	if err != nil {
		h.fail(w, r, "pending TOTP factor", err, "tenant", a.tenant.ID)
		return
	}
	if !found {
		h.seeOther(w, r, h.securityURL(a))
		return
	}
	now := h.cfg.Now()
	step, ok := mfa.Verify(secret, r.PostForm.Get(fieldCode), now, f.LastStep)
	if !ok {
		h.showSecurity(w, r, a, http.StatusUnprocessableEntity, totpRefusal(actionConfirm, msgBadCode))
		return
	}
	codes, hashes := mfa.NewRecoveryCodes(h.recoveryKey)
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := tx.ConfirmTOTP(ctx, a.tenant.ID, a.user.ID, step, hashes, now.UTC()); err != nil {
			return err
		}
		return selfAudit(ctx, tx, a.tenant.ID, a.user.ID, auditMFAEnrol, now)
	})
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		h.showSecurity(w, r, a, http.StatusUnprocessableEntity, totpRefusal(actionConfirm, msgBadCode))
		return
	}
	if err != nil {
		h.fail(w, r, "confirm TOTP factor", err, "tenant", a.tenant.ID)
		return
	}
	h.log.InfoContext(ctx, "login: TOTP factor enrolled", "tenant", a.tenant.ID, "user", a.user.ID)
	sid, _, err := h.startSession(ctx, r, a.tenant.ID, a.user.ID, now, amrWithTOTP)
	if err != nil {
		h.fail(w, r, "renew session", err, "tenant", a.tenant.ID)
		return
	}
	http.SetCookie(w, httpx.SessionCookie(a.tenant.ID, sid, h.cfg.SessionTTL, h.secure))
	h.showCodesOnce(w, r, a, codes, "")
}

// removeTOTP turns two-step verification off. It asks for the factor
// itself (a current code, or a recovery code for a lost phone), so that a
// session left open is not enough; wrong codes count against the same
// limits as sign-in.
func (h *Handler) removeTOTP(w http.ResponseWriter, r *http.Request, a *account) {
	ctx := r.Context()
	tenantID := a.tenant.ID
	limits := h.signInLimits(r, a.user.Email)
	blocked, wait, err := h.limited(ctx, tenantID, limits)
	if err != nil {
		h.fail(w, r, "read sign-in counters", err, "tenant", tenantID)
		return
	}
	if blocked {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		h.showSecurity(w, r, a, http.StatusTooManyRequests, totpRefusal(actionRemove, "Too many failed attempts. Try again in "+retryAfterText(wait)+"."))
		return
	}
	code := r.PostForm.Get(fieldCode)
	if _, isRecovery := mfa.HashRecoveryCode(h.recoveryKey, code); isRecovery {
		err = h.checkRecoveryCode(ctx, tenantID, a.user.ID, code)
	} else {
		err = h.checkTOTP(ctx, tenantID, a.user.ID, strings.TrimSpace(code))
	}
	if errors.Is(err, errBadCode) {
		if err := h.recordFailure(ctx, tenantID, limits); err != nil {
			h.fail(w, r, "count failed attempt", err, "tenant", tenantID)
			return
		}
		h.showSecurity(w, r, a, http.StatusUnprocessableEntity, totpRefusal(actionRemove, "That code is not right. Enter the current code from your authenticator app or an unused recovery code."))
		return
	}
	if err != nil {
		h.fail(w, r, "check second factor", err, "tenant", tenantID)
		return
	}
	err = h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := tx.DeleteMFA(ctx, tenantID, a.user.ID); err != nil {
			return err
		}
		return selfAudit(ctx, tx, tenantID, a.user.ID, auditMFARemove, h.cfg.Now())
	})
	// ErrNotFound: removed meanwhile (another tab, an admin), and audited there.
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.fail(w, r, "remove TOTP factor", err, "tenant", tenantID)
		return
	}
	h.log.InfoContext(ctx, "login: TOTP factor removed", "tenant", tenantID, "user", a.user.ID)
	if a.authRequestID == "" {
		h.done(w, r, h.securityURL(a), "mfa-off")
		return
	}
	h.message(w, r, http.StatusOK, "Two-step verification is off",
		"Your authenticator app and recovery codes no longer work for this account.",
		&pageLink{Href: h.securityURL(a), Text: "Back to security"})
}

// totpRefusal is a refused TOTP form (confirm or remove): the error goes
// beside its code field.
func totpRefusal(action, msg string) *accountForm {
	return &accountForm{Name: formTOTP + "-" + action, Errors: fieldErrors{fieldCode: msg}}
}
