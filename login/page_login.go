package login

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/orgid/orgid/internal/jit"
	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

// msgBadCredentials is the one answer for an unknown email and a wrong
// password, so that the form does not reveal who has an account.
const msgBadCredentials = "Email or password is incorrect."

// getLogin serves GET /login?authRequestID=…: it completes the request
// with the browser's session when it may (single sign-on), answers
// prompt=none without one, and shows the form otherwise.
func (h *Handler) getLogin(w http.ResponseWriter, r *http.Request) {
	f, ok := h.pendingFlow(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	sess, sid, err := h.currentSession(w, r, f.tenant.ID)
	if err != nil {
		h.fail(w, r, "load session", err, "tenant", f.tenant.ID)
		return
	}
	if sess != nil && !mustReauthenticate(f.ar, sess.AuthTime, h.cfg.Now()) {
		demand, err := h.mfaDemanded(ctx, f, sess.UserID)
		if err != nil {
			h.fail(w, r, "check MFA requirement", err, "tenant", f.tenant.ID)
			return
		}
		if demand == mfaEnrol || (demand == mfaInSignIn && !usedMFA(sess)) {
			h.stepUp(w, r, f, sess)
			return
		}
		if err := h.complete(ctx, f.ar, sess, sid); err != nil {
			h.fail(w, r, "complete auth request", err, "tenant", f.tenant.ID, "auth_request", f.ar.ID)
			return
		}
		h.toCallback(w, r, f.ar)
		return
	}
	// OIDC Core §3.1.2.1: prompt=none must not show any page.
	if hasPrompt(f.ar, "none") {
		if err := h.reject(ctx, f.ar, "login_required", "The user is not signed in."); err != nil {
			h.fail(w, r, "fail auth request", err, "tenant", f.tenant.ID, "auth_request", f.ar.ID)
			return
		}
		h.toCallback(w, r, f.ar)
		return
	}
	// Initiating User Registration via OpenID Connect 1.0: prompt=create.
	if hasPrompt(f.ar, "create") {
		ui.SetPageHeaders(w.Header())
		http.Redirect(w, r, h.pageURL(f.tenant.ID, "signup", f.ar.ID), http.StatusSeeOther)
		return
	}
	email := strings.TrimSpace(f.ar.LoginHint)
	if len(email) > maxEmailLen || !utf8.ValidString(email) || hasControl(email) {
		email = ""
	}
	h.renderLogin(w, r, http.StatusOK, f, email, nil, "")
}

// postLogin serves POST /login: CSRF, rate limits, then the password.
func (h *Handler) postLogin(w http.ResponseWriter, r *http.Request) {
	f, ok := h.pendingFlow(w, r)
	if !ok {
		return
	}
	form, errs := parseLoginForm(r.PostForm)
	if len(errs) > 0 {
		h.renderLogin(w, r, http.StatusUnprocessableEntity, f, form.Email, errs, "")
		return
	}
	ctx := r.Context()
	tenantID := f.tenant.ID
	limits := h.signInLimits(r, form.Email)
	blocked, wait, err := h.limited(ctx, tenantID, limits)
	if err != nil {
		h.fail(w, r, "read sign-in counters", err, "tenant", tenantID)
		return
	}
	if blocked {
		h.log.WarnContext(ctx, "login: sign-in rate limited", "tenant", tenantID, "ip", limits[1].subject)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		h.renderLogin(w, r, http.StatusTooManyRequests, f, form.Email, nil,
			"Too many failed sign-in attempts. Try again in "+retryAfterText(wait)+".")
		return
	}
	user, err := h.cfg.Store.GetUserByEmail(ctx, tenantID, form.Email)
	found := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.fail(w, r, "look up user", err, "tenant", tenantID)
		return
	}
	if h.checkPassword(r, user, found, form.Password) {
		if err := h.provisionAtSignIn(ctx, user); err != nil {
			h.fail(w, r, "provision user", err, "tenant", tenantID, "user", user.ID)
			return
		}
		h.afterPassword(w, r, f, user)
		return
	}
	if err := h.recordFailure(ctx, tenantID, limits); err != nil {
		h.fail(w, r, "count failed sign-in", err, "tenant", tenantID)
		return
	}
	h.log.InfoContext(ctx, "login: sign-in failed", "tenant", tenantID, "ip", limits[1].subject, "known_user", found)
	h.renderLogin(w, r, http.StatusOK, f, form.Email, nil, msgBadCredentials)
}

// provisionAtSignIn runs just-in-time provisioning for a user whose email
// is verified but who was never provisioned (an admin created them
// verified), so that their first sign-in, for example through their
// organization's organization= login, places them (DESIGN §3). Anyone else
// is left alone without a write.
func (h *Handler) provisionAtSignIn(ctx context.Context, user storage.User) error {
	if !user.EmailVerified || !user.ProvisionedAt.IsZero() {
		return nil
	}
	return h.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		_, err := jit.Provision(ctx, tx, user, h.cfg.Now().UTC())
		return err
	})
}

// checkPassword verifies password for user, or against a dummy hash when
// there is no such user or the user has no password, so that every
// failure costs one argon2id computation.
func (h *Handler) checkPassword(r *http.Request, user storage.User, found bool, plain string) bool {
	hash := user.PasswordHash
	if !found || hash == "" {
		hash = h.dummyHash
	}
	ok, err := password.Verify(hash, plain)
	if err != nil {
		h.log.ErrorContext(r.Context(), "login: stored password hash unreadable", "tenant", user.TenantID, "user", user.ID, "err", err)
		password.Verify(h.dummyHash, plain) // same cost as a readable hash
		return false
	}
	return ok && found && user.PasswordHash != ""
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, f *flow, email string, errs fieldErrors, formError string) {
	focus := fieldEmail
	switch {
	case errs[fieldEmail] != "":
	case errs[fieldPassword] != "" || email != "":
		focus = fieldPassword
	}
	h.render(w, r, status, pageLogin, &pageData{
		Title:         pageTitle("Sign in", f.app.Name),
		AppName:       f.app.Name,
		OrgName:       f.orgName(),
		OrgLogoURL:    f.orgLogo(),
		AuthRequestID: f.ar.ID,
		CSRF:          h.csrf.Token(w, r),
		Email:         email,
		Errors:        errs,
		FormError:     formError,
		Focus:         focus,
	}, redirectSource(f.ar.RedirectURI))
}
