package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// maxFormBytes caps a form body; a sign-in form is a few hundred bytes.
const maxFormBytes = 64 << 10

// flow is what a page works on: the tenant, its pending auth request and
// the application that asked.
type flow struct {
	tenant storage.Tenant
	ar     *storage.AuthRequest
	app    storage.Application
	// org is the organization of an organization= sign-in, when it exists.
	org *storage.Organization
}

// requestTenant returns the tenant of r. Every page runs behind the
// tenant middleware, so a request without one is a fault: it is answered
// here and ok is false.
func (h *Handler) requestTenant(w http.ResponseWriter, r *http.Request) (storage.Tenant, bool) {
	tenant, ok := httpx.Tenant(r.Context())
	if !ok {
		h.fail(w, r, "resolve tenant", errNoTenant)
	}
	return tenant, ok
}

// loadFlow resolves the tenant and the auth request named in v. It
// answers the request itself (and returns false) when there is nothing to
// work on: no authRequestID, an expired one, or a storage fault.
func (h *Handler) loadFlow(w http.ResponseWriter, r *http.Request, v url.Values) (*flow, bool) {
	ctx := r.Context()
	tenant, ok := h.requestTenant(w, r)
	if !ok {
		return nil, false
	}
	id := authRequestID(v)
	if id == "" {
		h.noAuthRequest(w, r)
		return nil, false
	}
	ar, err := h.cfg.State.AuthRequest(ctx, tenant.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		h.expired(w, r)
		return nil, false
	}
	if err != nil {
		h.fail(w, r, "load auth request", err, "tenant", tenant.ID, "auth_request", id)
		return nil, false
	}
	app, err := h.cfg.Store.GetApplication(ctx, tenant.ID, ar.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		// The application was deleted after /authorize: nothing to return to.
		h.log.WarnContext(ctx, "login: auth request for unknown client", "tenant", tenant.ID, "client_id", ar.ClientID)
		h.expired(w, r)
		return nil, false
	}
	if err != nil {
		h.fail(w, r, "load application", err, "tenant", tenant.ID, "client_id", ar.ClientID)
		return nil, false
	}
	f := &flow{tenant: tenant, ar: ar, app: app}
	if ar.OrganizationID != "" {
		org, err := h.cfg.Store.GetOrganization(ctx, tenant.ID, ar.OrganizationID)
		switch {
		case err == nil:
			f.org = &org
		case !errors.Is(err, storage.ErrNotFound):
			h.fail(w, r, "load organization", err, "tenant", tenant.ID)
			return nil, false
		}
	}
	return f, true
}

// finished reports whether the auth request has already been completed or
// failed (the back button, a second submit); the OIDC side then decides
// what the callback does, and the browser goes there.
func (f *flow) finished() bool { return f.ar.Done || f.ar.Error != "" }

// readForm caps and parses a POSTed form and checks its CSRF token before
// anything else happens. It answers the request itself (and returns false)
// when the form is too large (413), unreadable (400) or forged (403).
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.message(w, r, http.StatusRequestEntityTooLarge, "Form too large",
				"The form you sent is too large. Go back and try again.", nil)
			return false
		}
		h.message(w, r, http.StatusBadRequest, "Form not readable",
			"The form could not be read. Go back and try again.", nil)
		return false
	}
	if !h.csrf.Valid(r) {
		h.message(w, r, http.StatusForbidden, "Form expired",
			"This form has expired or your browser blocked cookies. Go back, reload the page and try again.", nil)
		return false
	}
	return true
}

// formValues is where a posted form carries authRequestID: its hidden
// field, or else the query of the form's action.
func formValues(r *http.Request) url.Values {
	if r.PostForm.Has("authRequestID") {
		return r.PostForm
	}
	return r.URL.Query()
}

// pendingFlow starts every login page: for a POST it reads the (capped)
// form, then loads the auth request. A request that is already done or
// failed (back button, double submit) goes straight back to the client.
// ok is false when the response has been written.
func (h *Handler) pendingFlow(w http.ResponseWriter, r *http.Request) (*flow, bool) {
	v := r.URL.Query()
	if r.Method == http.MethodPost {
		if !h.readForm(w, r) {
			return nil, false
		}
		v = formValues(r)
	}
	f, ok := h.loadFlow(w, r, v)
	if !ok {
		return nil, false
	}
	if f.finished() {
		h.toCallback(w, r, f.ar)
		return nil, false
	}
	return f, true
}

// orgName and orgLogo show the organization of an organization= sign-in.
func (f *flow) orgName() string {
	if f.org == nil {
		return ""
	}
	return f.org.Name
}

func (f *flow) orgLogo() string {
	if f.org == nil {
		return ""
	}
	return f.org.LogoURL
}
