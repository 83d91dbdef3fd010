package login

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

// The second step of sign-in: after the right password, a user with a
// confirmed TOTP factor enters a code from their app (/mfa) or one of
// their recovery codes (/recovery-code). Until then no session exists;
// the half-done sign-in is held server-side (mfaPending).

const (
	fieldCode = "code"

	msgBadCode         = "That code is not right. Enter the current code from your authenticator app."
	msgBadRecoveryCode = "That recovery code is not right, or it has been used already."
)

// afterPassword continues a sign-in whose password was right: a user with
// a second factor is asked for it; a user without one whom the sign-in
// demands one of (acr_values, or the organization of an organization=
// sign-in) is signed in and sent to enrolment first, from where Continue
// returns to the sign-in; everyone else is signed in.
func (h *Handler) afterPassword(w http.ResponseWriter, r *http.Request, f *flow, user storage.User) {
	ar := f.ar
	if user.MFAEnabled {
		if err := h.startPending(w, r, ar, user.ID); err != nil {
			h.fail(w, r, "start MFA sign-in", err, "tenant", ar.TenantID)
			return
		}
		h.seeOther(w, r, h.pageURL(ar.TenantID, "mfa", ar.ID))
		return
	}
	demand, err := h.mfaDemanded(r.Context(), f, user.ID)
	if err != nil {
		h.fail(w, r, "check MFA requirement", err, "tenant", ar.TenantID)
		return
	}
	if demand == mfaNotDemanded {
		h.signIn(w, r, ar, user.ID, []string{amrPassword})
		return
	}
	sid, _, err := h.startSession(r.Context(), r, ar.TenantID, user.ID, h.cfg.Now(), []string{amrPassword})
	if err != nil {
		h.fail(w, r, "start session", err, "tenant", ar.TenantID)
		return
	}
	http.SetCookie(w, httpx.SessionCookie(ar.TenantID, sid, h.cfg.SessionTTL, h.secure))
	h.seeOther(w, r, h.pageURL(ar.TenantID, "account/security", ar.ID))
}

// stepUp answers an auth request that demands MFA (acr_values, or the
// organization's requirement) from a browser whose session did not use
// it: the user gives their second factor, or enrols one first.
// prompt=none cannot show either page.
func (h *Handler) stepUp(w http.ResponseWriter, r *http.Request, f *flow, sess *storage.Session) {
	ctx := r.Context()
	if hasPrompt(f.ar, "none") {
		// OIDC Core §3.1.2.6: interaction_required.
		if err := h.reject(ctx, f.ar, "interaction_required", "The sign-in must use a second factor."); err != nil {
			h.fail(w, r, "fail auth request", err, "tenant", f.tenant.ID, "auth_request", f.ar.ID)
			return
		}
		h.toCallback(w, r, f.ar)
		return
	}
	user, err := h.cfg.Store.GetUser(ctx, f.tenant.ID, sess.UserID)
	if err != nil {
		h.fail(w, r, "load user", err, "tenant", f.tenant.ID)
		return
	}
	if !user.MFAEnabled {
		h.seeOther(w, r, h.pageURL(f.tenant.ID, "account/security", f.ar.ID))
		return
	}
	if err := h.startPending(w, r, f.ar, user.ID); err != nil {
		h.fail(w, r, "start MFA sign-in", err, "tenant", f.tenant.ID)
		return
	}
	h.seeOther(w, r, h.pageURL(f.tenant.ID, "mfa", f.ar.ID))
}

func (h *Handler) seeOther(w http.ResponseWriter, r *http.Request, to string) {
	ui.SetPageHeaders(w.Header())
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// secondStep loads what both second-step pages work on. Without a
// half-done sign-in for this auth request (expired, another browser) the
// browser goes back to the password form.
func (h *Handler) secondStep(w http.ResponseWriter, r *http.Request) (*flow, *mfaPending, string, bool) {
	f, ok := h.pendingFlow(w, r)
	if !ok {
		return nil, nil, "", false
	}
	p, token, err := h.pending(r, f.ar)
	if err != nil {
		h.fail(w, r, "load MFA sign-in", err, "tenant", f.tenant.ID)
		return nil, nil, "", false
	}
	if p == nil {
		h.seeOther(w, r, h.pageURL(f.tenant.ID, "login", f.ar.ID))
		return nil, nil, "", false
	}
	return f, p, token, true
}

func (h *Handler) getMFA(w http.ResponseWriter, r *http.Request) {
	if f, _, _, ok := h.secondStep(w, r); ok {
		h.renderCode(w, r, http.StatusOK, pageMFA, f, "")
	}
}

func (h *Handler) getRecovery(w http.ResponseWriter, r *http.Request) {
	if f, _, _, ok := h.secondStep(w, r); ok {
		h.renderCode(w, r, http.StatusOK, pageRecovery, f, "")
	}
}

func (h *Handler) postMFA(w http.ResponseWriter, r *http.Request) {
	h.postSecondFactor(w, r, pageMFA)
}

func (h *Handler) postRecovery(w http.ResponseWriter, r *http.Request) {
	h.postSecondFactor(w, r, pageRecovery)
}

// postSecondFactor checks a TOTP or recovery code under the same failure
// limits as passwords: a wrong code counts against the account (by its
// email) and the client IP, so that the 10^6 codes cannot be tried
// faster than passwords (RFC 6238 §5.2 asks for throttling).
func (h *Handler) postSecondFactor(w http.ResponseWriter, r *http.Request, page string) {
	f, p, token, ok := h.secondStep(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	tenantID := f.tenant.ID
	user, err := h.cfg.Store.GetUser(ctx, tenantID, p.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		h.endPending(w, ctx, tenantID, token)
		h.seeOther(w, r, h.pageURL(tenantID, "login", f.ar.ID))
		return
	}
	if err != nil {
		h.fail(w, r, "load user", err, "tenant", tenantID)
		return
	}
	limits := h.signInLimits(r, user.Email)
	blocked, wait, err := h.limited(ctx, tenantID, limits)
	if err != nil {
		h.fail(w, r, "read sign-in counters", err, "tenant", tenantID)
		return
	}
	if blocked {
		h.log.WarnContext(ctx, "login: second factor rate limited", "tenant", tenantID, "ip", limits[1].subject)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		h.renderCode(w, r, http.StatusTooManyRequests, page, f,
			"Too many failed sign-in attempts. Try again in "+retryAfterText(wait)+".")
		return
	}
	code := r.PostForm.Get(fieldCode)
	amr, msg := amrWithTOTP, msgBadCode
	if page == pageRecovery {
		amr, msg = amrWithRecovery, msgBadRecoveryCode
		err = h.checkRecoveryCode(ctx, tenantID, user.ID, code)
	} else {
		err = h.checkTOTP(ctx, tenantID, user.ID, code)
	}
	if errors.Is(err, errBadCode) {
		if err := h.recordFailure(ctx, tenantID, limits); err != nil {
			h.fail(w, r, "count failed sign-in", err, "tenant", tenantID)
			return
		}
		h.log.InfoContext(ctx, "login: second factor refused", "tenant", tenantID, "user", user.ID, "page", page, "ip", limits[1].subject)
		h.renderCode(w, r, http.StatusOK, page, f, msg)
		return
	}
	if err != nil {
		h.fail(w, r, "check second factor", err, "tenant", tenantID, "user", user.ID)
		return
	}
	h.endPending(w, ctx, tenantID, token)
	h.signIn(w, r, f.ar, user.ID, amr)
}

func (h *Handler) renderCode(w http.ResponseWriter, r *http.Request, status int, page string, f *flow, formError string) {
	title := "Verify it’s you"
	h.render(w, r, status, page, &pageData{
		Title:         pageTitle(title, f.app.Name),
		AppName:       f.app.Name,
		OrgName:       f.orgName(),
		OrgLogoURL:    f.orgLogo(),
		AuthRequestID: f.ar.ID,
		CSRF:          h.csrf.Token(w, r),
		FormError:     formError,
		Focus:         fieldCode,
	}, redirectSource(f.ar.RedirectURI))
}
