package portal

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// call is one request of a signed-in user.
type call struct {
	tenant storage.Tenant
	user   storage.User
	// org is the organization of the page, nil outside /portal/o/{slug}.
	org *storage.MemberAccess
	// csrf is the form token of the page.
	csrf string
	// myOrgs is the user's organizations once read (myOrganizations).
	myOrgs *myOrgs
}

// handlerFunc serves a signed-in request.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call)

// can reports whether the user holds perm in the page's organization; ""
// needs nothing but membership.
func (c *call) can(perm string) bool {
	return perm == "" || c.org != nil && slices.Contains(c.org.Permissions, perm)
}

func (c *call) canAll(perms []string) bool {
	for _, p := range perms {
		if !c.can(p) {
			return false
		}
	}
	return true
}

// actor is the user acting on the page's organization: like the
// self-service API, they may grant only what they hold (manage.Limit).
func (c *call) actor(r *http.Request) manage.Actor {
	a := manage.Actor{ID: c.user.ID, RequestID: httpx.RequestID(r.Context())}
	if c.org != nil {
		a.Limit = &manage.Limit{Permissions: slices.Clone(c.org.Permissions)}
	}
	return a
}

// maxFormBytes caps a form's body; the largest field is custom data.
const maxFormBytes = 256 << 10

// signedIn requires a portal session whose user still exists and whose
// sign-in was not ended since (a password reset ends every session:
// User.SessionsNotBefore). Without one, a GET starts a sign-in that
// comes back to the page; a POST is refused, as its form cannot be
// replayed after the sign-in.
func (h *Handler) signedIn(next handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		tenant, ok := httpx.Tenant(ctx)
		if !ok {
			h.fail(w, r, nil, "no tenant", errors.New("portal: no tenant in request context"))
			return
		}
		var user storage.User
		sid := h.sessionID(r, tenant.ID)
		s, err := h.loadSessionFor(r, tenant.ID, sid)
		if err == nil && s != nil {
			user, err = h.cfg.Store.GetUser(ctx, tenant.ID, s.UserID)
			if errors.Is(err, storage.ErrNotFound) || err == nil && s.CreatedAt.Before(user.SessionsNotBefore) {
				s, err = nil, h.cfg.State.KV.Delete(ctx, sessionKey(tenant.ID, sid))
			}
		}
		if err != nil {
			h.fail(w, r, nil, "load session", err)
			return
		}
		if s == nil {
			if r.Method == http.MethodPost {
				h.message(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again, then repeat what you were doing.",
					&link{Href: h.path(tenant.ID, "/portal"), Text: "Sign in"})
				return
			}
			h.startSignIn(w, r, tenant.ID, h.safeReturn(tenant.ID, r.URL.RequestURI()))
			return
		}
		c := &call{tenant: tenant, user: user}
		c.csrf = h.csrf.Token(w, r)
		next(w, r, c)
	})
}

func (h *Handler) loadSessionFor(r *http.Request, tenantID, sid string) (*session, error) {
	if sid == "" {
		return nil, nil
	}
	s, err := h.loadSession(r.Context(), tenantID, sid)
	if err != nil || s == nil {
		return nil, err
	}
	if !h.cfg.Now().Before(s.CreatedAt.Add(h.cfg.SessionTTL)) {
		return nil, nil
	}
	return s, nil
}

// form parses a posted form and refuses it without its CSRF token: 403,
// nothing changed.
func (h *Handler) form(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		if !h.checkCSRF(w, r) {
			return
		}
		next(w, r, c)
	}
}

// checkCSRF parses the form (its size capped) and checks its token,
// answering the refusal itself.
func (h *Handler) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.message(w, r, http.StatusRequestEntityTooLarge, "Too much data", "The form was too large.", nil)
			return false
		}
		h.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.", nil)
		return false
	}
	if !h.csrf.Valid(r) {
		httpx.RequestInfo(r.Context()).SetError("csrf")
		h.message(w, r, http.StatusForbidden, "Form expired",
			"This form has expired or did not come from this site. Go back, reload the page and try again.", nil)
		return false
	}
	return true
}

// inOrg loads the organization of /portal/o/{slug} and the user's access
// to it. A user who is not a member gets 404, as for an organization that
// does not exist (organizations cannot be probed); a member without perm
// gets 403. Every one of perms is needed ("" needs nothing).
func (h *Handler) inOrg(next handlerFunc, perms ...string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		ctx := r.Context()
		slug := mux.Vars(r)["slug"]
		org, err := h.cfg.Store.GetOrganizationBySlug(ctx, c.tenant.ID, slug)
		if errors.Is(err, storage.ErrNotFound) {
			h.notFound(w, r, c)
			return
		}
		if err != nil {
			h.fail(w, r, c, "load organization", err)
			return
		}
		access, err := h.m.MemberAccess(ctx, c.tenant.ID, org.ID, c.user.ID)
		if errors.Is(err, storage.ErrNotFound) {
			h.notFound(w, r, c)
			return
		}
		if err != nil {
			h.fail(w, r, c, "load access", err)
			return
		}
		c.org = &access
		if !c.canAll(perms) {
			httpx.RequestInfo(ctx).SetError("forbidden")
			h.render(w, r, c, http.StatusForbidden, "message.html", "Not allowed", &messageData{
				Heading: "Not allowed", Text: "Your roles in " + org.Name + " do not let you open this page.",
			})
			return
		}
		next(w, r, c)
	}
}
