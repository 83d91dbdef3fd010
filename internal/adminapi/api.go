package adminapi

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// Config is what the APIs need.
type Config struct {
	Manage   *manage.Service
	Verifier Verifier
	// Issuer returns a tenant's issuer; the management API's audience is
	// the issuer followed by /api.
	Issuer func(tenantID string) string
	// OrganizationAudience returns the audience of an organization token
	// (urn:orgid:organization:{orgId}).
	OrganizationAudience func(orgID string) string
	Logger               *slog.Logger
}

// Handler serves the management and organization self-service APIs.
type Handler struct {
	cfg Config
	m   *manage.Service
	log *slog.Logger
}

// New returns the APIs' handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, m: cfg.Manage, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// call is an authorized request: its tenant and who makes it.
type call struct {
	tenant storage.Tenant
	actor  manage.Actor
}

// endpoint serves one authorized call and returns the status and body to
// answer with (nil for none), or an error for fail to answer.
type endpoint func(w http.ResponseWriter, r *http.Request, c *call) (int, any, error)

func (h *Handler) run(w http.ResponseWriter, r *http.Request, ep endpoint, c *call) {
	status, body, err := ep(w, r, c)
	switch {
	case err != nil:
		h.fail(w, r, err)
	case body == nil:
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
	default:
		writeJSON(w, status, body)
	}
}

// NotFoundRoute is the route label of a path under /api/v1 that no
// endpoint serves: one value whatever the path, so that probing adds no
// metric series.
const NotFoundRoute = "/t/{tenant}/api/v1/{unknown}"

// Register adds the APIs to r, the /t/{tenant} subrouter whose middleware
// has put the tenant into the request context. It must come before any
// catch-all route of r.
//
// Each path is one mux route that picks its method itself: gorilla/mux
// forgets a method mismatch when a later route shares the path prefix, and
// would answer 404 where 405 is right.
func (h *Handler) Register(r *mux.Router) {
	api := r.PathPrefix("/api/v1").Subrouter()
	// Unknown paths under /api/v1 get problem+json here instead of
	// falling through to the protocol routes. Matched paths are labelled
	// with their mux template by the server's router; this one is not a
	// route, so it names its own.
	api.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.RequestInfo(r.Context()).SetRoute(NotFoundRoute)
		writeProblem(w, r, newError(http.StatusNotFound, "not-found", "no such endpoint"))
	})

	var paths []string
	byPath := map[string]methods{}
	handle := func(method, path string, hd http.Handler) {
		if byPath[path] == nil {
			byPath[path] = methods{}
			paths = append(paths, path)
		}
		byPath[path][method] = hd
	}
	admin := func(method, path string, ep endpoint) {
		handle(method, "/admin"+path, h.admin(ep))
	}
	admin(http.MethodGet, "/organizations", h.listOrganizations)
	admin(http.MethodPost, "/organizations", h.createOrganization)
	admin(http.MethodGet, "/organizations/{orgId}", h.getOrganization)
	admin(http.MethodPut, "/organizations/{orgId}", h.updateOrganization)
	admin(http.MethodPatch, "/organizations/{orgId}", h.updateOrganization)
	admin(http.MethodDelete, "/organizations/{orgId}", h.deleteOrganization)
	admin(http.MethodGet, "/organizations/{orgId}/roles", h.listOrganizationRoles)
	admin(http.MethodPost, "/organizations/{orgId}/roles", h.createOrganizationRole)
	admin(http.MethodGet, "/organizations/{orgId}/members", h.listMembers)
	admin(http.MethodPost, "/organizations/{orgId}/members", h.addMembers)
	admin(http.MethodDelete, "/organizations/{orgId}/members/{userId}", h.removeMember)
	admin(http.MethodPut, "/organizations/{orgId}/members/{userId}/roles", h.setMemberRoles)
	admin(http.MethodGet, "/organizations/{orgId}/applications", h.listApplicationLinks)
	admin(http.MethodPost, "/organizations/{orgId}/applications", h.linkApplication)
	admin(http.MethodDelete, "/organizations/{orgId}/applications/{appId}", h.unlinkApplication)
	admin(http.MethodPut, "/organizations/{orgId}/applications/{appId}/roles", h.setApplicationLinkRoles)
	admin(http.MethodGet, "/organizations/{orgId}/keys", h.listAuthKeys)
	admin(http.MethodPost, "/organizations/{orgId}/keys", h.createAuthKey)
	admin(http.MethodDelete, "/organizations/{orgId}/keys/{kid}", h.revokeAuthKey)
	admin(http.MethodGet, "/organizations/{orgId}/jit/email-domains", h.getJITEmailDomains)
	admin(http.MethodPut, "/organizations/{orgId}/jit/email-domains", h.setJITEmailDomains)
	admin(http.MethodGet, "/organizations/{orgId}/jit/roles", h.getJITRoles)
	admin(http.MethodPut, "/organizations/{orgId}/jit/roles", h.setJITRoles)
	admin(http.MethodGet, "/organizations/{orgId}/invitations", h.listInvitations)
	admin(http.MethodPost, "/organizations/{orgId}/invitations", h.createInvitation)
	admin(http.MethodGet, "/organizations/{orgId}/invitations/{invitationId}", h.getInvitation)
	admin(http.MethodDelete, "/organizations/{orgId}/invitations/{invitationId}", h.revokeInvitation)
	admin(http.MethodPost, "/organizations/{orgId}/invitations/{invitationId}/resend", h.resendInvitation)
	admin(http.MethodGet, "/organization-permissions", h.listPermissions)
	admin(http.MethodPost, "/organization-permissions", h.createPermission)
	admin(http.MethodGet, "/organization-roles", h.listTemplateRoles)
	admin(http.MethodPost, "/organization-roles", h.createTemplateRole)
	admin(http.MethodPost, "/users", h.createUser)
	admin(http.MethodGet, "/users/{userId}", h.getUser)
	admin(http.MethodPut, "/users/{userId}", h.updateUser)
	admin(http.MethodPatch, "/users/{userId}", h.updateUser)
	admin(http.MethodDelete, "/users/{userId}", h.deleteUser)
	admin(http.MethodGet, "/users/{userId}/organizations", h.listUserOrganizations)
	admin(http.MethodDelete, "/users/{userId}/mfa", h.resetUserMFA)
	admin(http.MethodGet, "/applications", h.listApplications)
	admin(http.MethodPost, "/applications", h.createApplication)
	admin(http.MethodGet, "/applications/{appId}", h.getApplication)
	admin(http.MethodDelete, "/applications/{appId}", h.deleteApplication)
	admin(http.MethodPost, "/applications/{appId}/secret", h.rotateApplicationSecret)
	admin(http.MethodGet, "/tenants", h.listTenants)
	admin(http.MethodPost, "/tenants", h.createTenant)
	admin(http.MethodGet, "/audit-log", h.listAudit)
	// The mail outbox: management API only, as its messages carry live
	// links.
	admin(http.MethodGet, "/mail", h.listMail)
	admin(http.MethodGet, "/mail/{mailId}", h.getMail)

	// The organization self-service API: the same operations on the
	// caller's own organization, each behind one permission (DESIGN §4:
	// owner and admin manage, member reads).
	member := func(method, path, permission string, ep endpoint) {
		handle(method, "/organizations/{orgId}"+path, h.member(permission, ep))
	}
	member(http.MethodGet, "", "read:organization", h.getOrganization)
	member(http.MethodPut, "", "write:organization", h.updateOrganization)
	member(http.MethodPatch, "", "write:organization", h.updateOrganization)
	member(http.MethodGet, "/members", "read:members", h.listMembers)
	member(http.MethodPost, "/members", "write:members", h.addMembers)
	member(http.MethodDelete, "/members/{userId}", "write:members", h.removeMember)
	member(http.MethodPut, "/members/{userId}/roles", "write:members", h.setMemberRoles)
	member(http.MethodGet, "/roles", "read:roles", h.listOrganizationRoles)
	member(http.MethodPost, "/roles", "write:roles", h.createOrganizationRole)
	// Applications. /applications is what it is on the management API
	// (DESIGN §4): the m2m applications linked to the organization, with
	// their roles there. A member may link, change and unlink only the
	// applications the organization owns; a tenant-wide application's
	// link is listed but stays the tenant administrators'. The
	// applications the organization owns — made, read, deleted and given
	// new secrets by its own managers — are /owned-applications, a name
	// that cannot be mistaken for the links.
	member(http.MethodGet, "/applications", "read:applications", h.listApplicationLinks)
	member(http.MethodPost, "/applications", "write:applications", h.linkApplication)
	member(http.MethodDelete, "/applications/{appId}", "write:applications", h.unlinkApplication)
	member(http.MethodPut, "/applications/{appId}/roles", "write:applications", h.setApplicationLinkRoles)
	member(http.MethodGet, "/owned-applications", "read:applications", h.listOwnedApplications)
	member(http.MethodPost, "/owned-applications", "write:applications", h.createOwnedApplication)
	member(http.MethodGet, "/owned-applications/{appId}", "read:applications", h.getOwnedApplication)
	member(http.MethodDelete, "/owned-applications/{appId}", "write:applications", h.deleteOwnedApplication)
	member(http.MethodPost, "/owned-applications/{appId}/secret", "write:applications", h.rotateOwnedApplicationSecret)
	// Authentication keys of the organization's identity service (DESIGN
	// §3): only owner and admin hold write:keys.
	member(http.MethodGet, "/keys", "read:keys", h.listAuthKeys)
	member(http.MethodPost, "/keys", "write:keys", h.createAuthKey)
	member(http.MethodDelete, "/keys/{kid}", "write:keys", h.revokeAuthKey)
	// Just-in-time provisioning is one of the organization's settings.
	member(http.MethodGet, "/jit/email-domains", "read:organization", h.getJITEmailDomains)
	member(http.MethodPut, "/jit/email-domains", "write:organization", h.setJITEmailDomains)
	member(http.MethodGet, "/jit/roles", "read:organization", h.getJITRoles)
	member(http.MethodPut, "/jit/roles", "write:organization", h.setJITRoles)
	// Invitations make members: members' permissions.
	member(http.MethodGet, "/invitations", "read:members", h.listInvitations)
	member(http.MethodPost, "/invitations", "write:members", h.createInvitation)
	member(http.MethodGet, "/invitations/{invitationId}", "read:members", h.getInvitation)
	member(http.MethodDelete, "/invitations/{invitationId}", "write:members", h.revokeInvitation)
	member(http.MethodPost, "/invitations/{invitationId}/resend", "write:members", h.resendInvitation)

	for _, p := range paths {
		api.Handle(p, byPath[p])
	}
}

// methods serves one path: each method's handler, 405 for the others.
type methods map[string]http.Handler

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hd, ok := m[r.Method]; ok {
		hd.ServeHTTP(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for method := range m {
		allow = append(allow, method)
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, r, newError(http.StatusMethodNotAllowed, "method-not-allowed", "this endpoint does not take "+r.Method))
}
