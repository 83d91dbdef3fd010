package login

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

// Authentication methods (RFC 8176) and context classes this package sets.
const (
	amrPassword = "pwd"
	acrPassword = "urn:orgid:acr:password"
	acrMFA      = "urn:orgid:acr:mfa"
)

// errNoTenant means the handler runs outside the /t/{tenant} middleware:
// a wiring fault, never the user's.
var errNoTenant = errors.New("login: no tenant in request context")

// currentSession returns the browser's session in tenant and its ID when
// it is still valid (not past SessionTTL by Config.Now, user still there,
// not ended by a password reset), or nil. A stale session is deleted and
// its cookie cleared.
func (h *Handler) currentSession(w http.ResponseWriter, r *http.Request, tenantID string) (*storage.Session, string, error) {
	ctx := r.Context()
	sid := httpx.SessionID(r.Header, tenantID, h.secure)
	if sid == "" {
		return nil, "", nil
	}
	sess, err := h.cfg.State.Session(ctx, tenantID, sid)
	if errors.Is(err, storage.ErrNotFound) {
		http.SetCookie(w, httpx.SessionCookie(tenantID, "", 0, h.secure))
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	stale := sess.TenantID != tenantID || !h.cfg.Now().Before(sess.CreatedAt.Add(h.cfg.SessionTTL))
	if !stale {
		user, err := h.cfg.Store.GetUser(ctx, tenantID, sess.UserID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			stale = true
		case err != nil:
			return nil, "", err
		default:
			// A password reset ends every session started before it
			// (User.SessionsNotBefore).
			stale = sess.CreatedAt.Before(user.SessionsNotBefore)
		}
	}
	if stale {
		if err := h.cfg.State.DeleteSession(ctx, tenantID, sid); err != nil {
			return nil, "", err
		}
		http.SetCookie(w, httpx.SessionCookie(tenantID, "", 0, h.secure))
		return nil, "", nil
	}
	return sess, sid, nil
}

// mustReauthenticate reports whether ar forbids reusing a session that
// authenticated at authTime: prompt=login arrives as max_age=0, and
// max_age is the allowable elapsed time in seconds since the last active
// authentication (OIDC Core §3.1.2.1).
func mustReauthenticate(ar *storage.AuthRequest, authTime, now time.Time) bool {
	if ar.MaxAge == nil {
		return false
	}
	maxAge := *ar.MaxAge
	if maxAge <= 0 {
		return true
	}
	if maxAge > math.MaxInt64/int64(time.Second) {
		return false
	}
	return now.Sub(authTime) > time.Duration(maxAge)*time.Second
}

func hasPrompt(ar *storage.AuthRequest, p string) bool {
	return slices.Contains(ar.Prompt, p)
}

// acrFor is the authentication context class of a sign-in that used amr.
func acrFor(amr []string) string {
	if slices.Contains(amr, "otp") || slices.Contains(amr, "mfa") {
		return acrMFA
	}
	return acrPassword
}

// startSession signs the browser in as userID: a fresh session ID (never
// one the browser offered, against session fixation), stored for
// SessionTTL. The browser's previous session in this tenant is ended, so
// that a step up to a second factor gets a new session ID too (OWASP
// Session Management: renew the ID on any privilege change). amr lists
// the methods the sign-in used (RFC 8176).
// The cookie is set by finish, once the auth request is saved too.
func (h *Handler) startSession(ctx context.Context, r *http.Request, tenantID, userID string, now time.Time, amr []string) (string, *storage.Session, error) {
	if old := httpx.SessionID(r.Header, tenantID, h.secure); old != "" {
		if err := h.cfg.State.DeleteSession(ctx, tenantID, old); err != nil {
			return "", nil, err
		}
	}
	sid := secure.Token()
	sess := &storage.Session{
		TenantID:  tenantID,
		UserID:    userID,
		AuthTime:  now,
		AMR:       slices.Clone(amr),
		CreatedAt: now,
	}
	if err := h.cfg.State.PutSession(ctx, sid, sess, h.cfg.SessionTTL); err != nil {
		return "", nil, err
	}
	return sid, sess, nil
}

// signIn starts a session for userID after the checks amr names, completes
// ar with it and sends the browser to the callback.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, userID string, amr []string) {
	ctx := r.Context()
	sid, sess, err := h.startSession(ctx, r, ar.TenantID, userID, h.cfg.Now(), amr)
	if err != nil {
		h.fail(w, r, "start session", err, "tenant", ar.TenantID, "user", userID)
		return
	}
	if err := h.complete(ctx, ar, sess, sid); err != nil {
		// Best effort: the session is useless without its cookie.
		if derr := h.cfg.State.DeleteSession(ctx, ar.TenantID, sid); derr != nil {
			h.log.WarnContext(ctx, "login: delete orphan session", "tenant", ar.TenantID, "err", derr)
		}
		h.fail(w, r, "complete auth request", err, "tenant", ar.TenantID, "auth_request", ar.ID)
		return
	}
	http.SetCookie(w, httpx.SessionCookie(ar.TenantID, sid, h.cfg.SessionTTL, h.secure))
	h.toCallback(w, r, ar)
}

// complete marks ar done by the session's user and sign-in, and saves it
// for the OIDC side to issue the code.
//
// A sign-in for one organization (organization= on /authorize) is only
// completed for its members; anyone else is turned back to the client
// with access_denied, alike for an organization that does not exist, so
// that sign-in cannot tell which organizations exist (DESIGN §3).
func (h *Handler) complete(ctx context.Context, ar *storage.AuthRequest, sess *storage.Session, sid string) error {
	if ar.OrganizationID != "" {
		_, err := h.cfg.Store.GetMemberAccess(ctx, ar.TenantID, ar.OrganizationID, sess.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			return h.reject(ctx, ar, "access_denied", "the organization does not exist or the user is not a member of it")
		}
		if err != nil {
			return err
		}
	}
	ar.Done = true
	ar.UserID = sess.UserID
	ar.AuthTime = sess.AuthTime
	ar.AMR = slices.Clone(sess.AMR)
	ar.ACR = acrFor(sess.AMR)
	ar.SessionID = sid
	ar.Error, ar.ErrorDescription = "", ""
	return h.cfg.State.PutAuthRequest(ctx, ar, h.cfg.AuthRequestTTL)
}

// reject marks ar failed with an OAuth error code for the OIDC side to
// send to the client instead of a code.
func (h *Handler) reject(ctx context.Context, ar *storage.AuthRequest, code, description string) error {
	ar.Done = false
	ar.Error = code
	ar.ErrorDescription = description
	return h.cfg.State.PutAuthRequest(ctx, ar, h.cfg.AuthRequestTTL)
}

// toCallback sends the browser to the OIDC side with 303 See Other, so
// that a POST becomes a GET.
func (h *Handler) toCallback(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	ui.SetPageHeaders(w.Header())
	http.Redirect(w, r, h.cfg.Flow.CallbackURL(r.Context(), ar.TenantID, ar.ID), http.StatusSeeOther)
}
