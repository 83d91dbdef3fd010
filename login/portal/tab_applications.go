package portal

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// applicationRoutes are the Applications tab: the applications the
// organization owns (create; the client secret shown once; rotate and
// delete after a confirmation page) and the m2m integrations linked to
// it with their roles (link, change roles, unlink; links of tenant-wide
// applications are the tenant administrators' and shown read-only).
func (h *Handler) applicationRoutes() []route {
	return []route{
		page("/applications", "read:applications", h.getApplications),
		action("/applications", "write:applications", h.postCreateApplication),
		page("/applications/{clientId}/rotate", "write:applications", h.getRotateApplication),
		action("/applications/{clientId}/rotate", "write:applications", h.postRotateApplication),
		page("/applications/{clientId}/delete", "write:applications", h.getDeleteApplication),
		action("/applications/{clientId}/delete", "write:applications", h.postDeleteApplication),
		action("/applications/links", "write:applications", h.postLinkApplication),
		action("/applications/links/{clientId}/roles", "write:applications", h.postLinkRoles),
		page("/applications/links/{clientId}/unlink", "write:applications", h.getUnlinkApplication),
		action("/applications/links/{clientId}/unlink", "write:applications", h.postUnlinkApplication),
	}
}

// appKind is an application type with the words the create form explains
// it in (DESIGN §1 "application").
type appKind struct {
	Type    storage.ApplicationType
	Label   string
	Explain string
}

var appKinds = []appKind{
	{storage.AppWeb, "Web", "a server-side application that signs users in and keeps a client secret"},
	{storage.AppSPA, "Single-page app", "a browser application: no secret, sign-in with PKCE"},
	{storage.AppNative, "Native", "a mobile or desktop application: no secret, sign-in with PKCE"},
	{storage.AppM2M, "Machine to machine", "a service that gets tokens for this organization with its own client secret (client credentials)"},
}

// revealedApp is what the page after create or rotate shows once: the
// client secret crosses the redirect sealed (keepSecret).
type revealedApp struct {
	ClientID string                  `json:"client_id"`
	Name     string                  `json:"name"`
	Type     storage.ApplicationType `json:"type"`
	Secret   string                  `json:"secret"`
	Rotated  bool                    `json:"rotated"`
}

// linkRow is a linked m2m application; Owned is false for a tenant-wide
// application, whose link only the tenant's administrators change.
type linkRow struct {
	manage.LinkedApplication
	Owned bool
}

type applicationsData struct {
	Apps     []storage.Application
	Next     string
	Links    []linkRow
	MoreLink bool
	// Linkable are the organization's m2m applications not linked to it.
	Linkable []storage.Application
	Roles    []storage.Role
	Kinds    []appKind
	Revealed *revealedApp
	CanWrite bool
}

func (h *Handler) applicationsPath(c *call, rel string) string {
	return h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/applications"+rel)
}

func (h *Handler) getApplications(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	orgID := c.org.Organization.ID
	apps, next, err := h.m.ListOrganizationApplications(ctx, c.tenant.ID, orgID, pageOf(r))
	if err != nil {
		h.listFail(w, r, c, "list applications", err)
		return
	}
	// An organization links a handful of integrations: one page of
	// links, and one of its own applications for the link form.
	links, moreLinks, err := h.m.ListApplicationLinks(ctx, c.tenant.ID, orgID, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		h.fail(w, r, c, "list application links", err)
		return
	}
	owned, _, err := h.m.ListOrganizationApplications(ctx, c.tenant.ID, orgID, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		h.fail(w, r, c, "list applications", err)
		return
	}
	ownedIDs := map[string]bool{}
	for _, a := range owned {
		ownedIDs[a.ClientID] = true
	}
	d := &applicationsData{Apps: apps, Next: nextLink(r, next), MoreLink: moreLinks != "", Kinds: appKinds, CanWrite: c.can("write:applications")}
	linked := map[string]bool{}
	for _, l := range links {
		linked[l.ClientID] = true
		owns := ownedIDs[l.ClientID]
		if !owns {
			// Beyond the first page of owned applications: ask.
			if _, err := h.m.GetOrganizationApplication(ctx, c.tenant.ID, orgID, l.ClientID); err == nil {
				owns = true
			} else if !errors.Is(err, storage.ErrNotFound) {
				h.fail(w, r, c, "load application", err)
				return
			}
		}
		d.Links = append(d.Links, linkRow{LinkedApplication: l, Owned: owns})
	}
	for _, a := range owned {
		if a.Type == storage.AppM2M && !linked[a.ClientID] {
			d.Linkable = append(d.Linkable, a)
		}
	}
	if d.CanWrite {
		if d.Roles, err = h.orgRoles(r, c); err != nil {
			h.fail(w, r, c, "list roles", err)
			return
		}
	}
	var rev revealedApp
	if h.takeSecret(r, c, &rev) {
		d.Revealed = &rev
	}
	h.render(w, r, c, http.StatusOK, "applications.html", "Applications · "+c.org.Organization.Name, d)
}

// redirectURIs are the lines of the form's textarea, blank ones dropped.
func redirectURIs(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// postCreateApplication creates an application the organization owns. An
// m2m one is linked to the organization at once, with the roles chosen.
func (h *Handler) postCreateApplication(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.applicationsPath(c, "")
	in := manage.ApplicationInput{
		Name:           strings.TrimSpace(r.PostForm.Get("name")),
		Type:           storage.ApplicationType(r.PostForm.Get("type")),
		RedirectURIs:   redirectURIs(r.PostForm.Get("redirect_uris")),
		OrganizationID: c.org.Organization.ID,
	}
	if in.Type == storage.AppM2M {
		// Redirect URIs are for sign-in: an m2m application has none, so a
		// textarea left filled in before switching the kind is ignored.
		in.RedirectURIs = nil
		in.Roles = postedRoles(r)
	}
	app, secret, err := h.m.CreateApplication(r.Context(), c.tenant.ID, c.actor(r), in)
	if err != nil {
		h.refuse(w, r, c, back, "create", err)
		return
	}
	h.reveal(w, r, c, revealedApp{ClientID: app.ClientID, Name: app.Name, Type: app.Type, Secret: secret}, "app-created")
}

// reveal keeps what the next page shows once and redirects there.
func (h *Handler) reveal(w http.ResponseWriter, r *http.Request, c *call, v revealedApp, notice string) {
	key, err := h.keepSecret(r.Context(), c, v)
	if err != nil {
		h.fail(w, r, c, "keep secret", err)
		return
	}
	h.done(w, r, h.applicationsPath(c, "?reveal="+key), notice)
}

type appConfirmData struct {
	App storage.Application
}

// ownedApp loads the application {clientId} of the page's organization,
// answering 404 itself when it has none such.
func (h *Handler) ownedApp(w http.ResponseWriter, r *http.Request, c *call) (storage.Application, bool) {
	app, err := h.m.GetOrganizationApplication(r.Context(), c.tenant.ID, c.org.Organization.ID, mux.Vars(r)["clientId"])
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return app, false
	}
	if err != nil {
		h.fail(w, r, c, "load application", err)
		return app, false
	}
	return app, true
}

func (h *Handler) getRotateApplication(w http.ResponseWriter, r *http.Request, c *call) {
	app, ok := h.ownedApp(w, r, c)
	if !ok {
		return
	}
	h.render(w, r, c, http.StatusOK, "application_rotate.html", "Rotate secret · "+c.org.Organization.Name, &appConfirmData{App: app})
}

func (h *Handler) postRotateApplication(w http.ResponseWriter, r *http.Request, c *call) {
	clientID := mux.Vars(r)["clientId"]
	secret, err := h.m.RotateOrganizationApplicationSecret(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if errors.Is(err, manage.ErrNoSecret) {
		err = formError("This application has no client secret to rotate.")
	}
	if err != nil {
		h.refuse(w, r, c, h.applicationsPath(c, "/"+clientID+"/rotate"), "rotate", err)
		return
	}
	app, err := h.m.GetOrganizationApplication(r.Context(), c.tenant.ID, c.org.Organization.ID, clientID)
	if err != nil {
		// Deleted between the two calls: the new secret is useless anyway.
		h.notFound(w, r, c)
		return
	}
	h.reveal(w, r, c, revealedApp{ClientID: clientID, Name: app.Name, Type: app.Type, Secret: secret, Rotated: true}, "secret-rotated")
}

func (h *Handler) getDeleteApplication(w http.ResponseWriter, r *http.Request, c *call) {
	app, ok := h.ownedApp(w, r, c)
	if !ok {
		return
	}
	h.render(w, r, c, http.StatusOK, "application_delete.html", "Delete application · "+c.org.Organization.Name, &appConfirmData{App: app})
}

func (h *Handler) postDeleteApplication(w http.ResponseWriter, r *http.Request, c *call) {
	clientID := mux.Vars(r)["clientId"]
	err := h.m.DeleteOrganizationApplication(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.refuse(w, r, c, h.applicationsPath(c, "/"+clientID+"/delete"), "delete", err)
		return
	}
	h.done(w, r, h.applicationsPath(c, ""), "app-deleted")
}

// postLinkApplication links one of the organization's m2m applications
// (one that was unlinked) with roles.
func (h *Handler) postLinkApplication(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.applicationsPath(c, "")
	_, err := h.m.LinkApplication(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID,
		strings.TrimSpace(r.PostForm.Get("application_id")), postedRoles(r))
	if errors.Is(err, storage.ErrAlreadyExists) {
		err = fieldError("application_id", "This application is linked already.")
	}
	if err != nil {
		h.refuse(w, r, c, back, "link", whole(err))
		return
	}
	h.done(w, r, back, "app-linked")
}

func (h *Handler) postLinkRoles(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.applicationsPath(c, "")
	clientID := mux.Vars(r)["clientId"]
	_, err := h.m.SetApplicationLinkRoles(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, clientID, postedRoles(r))
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.refuse(w, r, c, back, "link-"+clientID, whole(err))
		return
	}
	h.done(w, r, back, "roles-changed")
}

// whole turns manage's refusals of a link, whole clauses ("there is no
// role …", "this organization has no application …"), into sentences
// rather than prefixing them with the field's label.
func whole(err error) error {
	var fe *storage.FieldError
	if !errors.As(err, &fe) || fe.Message == "" {
		return err
	}
	msg := strings.ToUpper(fe.Message[:1]) + fe.Message[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return fieldError(fe.Field, msg)
}

type unlinkData struct {
	Link manage.LinkedApplication
}

func (h *Handler) getUnlinkApplication(w http.ResponseWriter, r *http.Request, c *call) {
	clientID := mux.Vars(r)["clientId"]
	links, _, err := h.m.ListApplicationLinks(r.Context(), c.tenant.ID, c.org.Organization.ID, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		h.fail(w, r, c, "list application links", err)
		return
	}
	for _, l := range links {
		if l.ClientID == clientID {
			h.render(w, r, c, http.StatusOK, "application_unlink.html", "Unlink application · "+c.org.Organization.Name, &unlinkData{Link: l})
			return
		}
	}
	h.notFound(w, r, c)
}

func (h *Handler) postUnlinkApplication(w http.ResponseWriter, r *http.Request, c *call) {
	clientID := mux.Vars(r)["clientId"]
	err := h.m.UnlinkApplication(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.refuse(w, r, c, h.applicationsPath(c, "/links/"+clientID+"/unlink"), "unlink", err)
		return
	}
	h.done(w, r, h.applicationsPath(c, ""), "app-unlinked")
}
