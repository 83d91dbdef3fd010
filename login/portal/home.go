package portal

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

// maxListed bounds the organizations a page lists for one user; a person
// in more than this many is unusual, and the page says so.
const maxListed = storage.MaxPageSize

// myOrganizations are the user's organizations with their roles there,
// oldest membership first, read once per request: the pages that list
// them and the header's switcher share the one read.
func (h *Handler) myOrganizations(r *http.Request, c *call) ([]storage.UserOrganization, bool, error) {
	if c.myOrgs == nil {
		orgs, next, err := h.m.ListUserOrganizations(r.Context(), c.tenant.ID, c.user.ID, storage.Page{Size: maxListed})
		if err != nil {
			return nil, false, err
		}
		c.myOrgs = &myOrgs{list: orgs, more: next != ""}
	}
	return c.myOrgs.list, c.myOrgs.more, nil
}

// myOrgs is what myOrganizations read.
type myOrgs struct {
	list []storage.UserOrganization
	more bool
}

// switcher is the header's organization list.
func (h *Handler) switcher(r *http.Request, c *call) ([]ui.OrgLink, error) {
	orgs, _, err := h.myOrganizations(r, c)
	if err != nil {
		return nil, err
	}
	out := make([]ui.OrgLink, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, ui.OrgLink{Name: o.Name, Slug: o.Slug})
	}
	return out, nil
}

// orgsData is the page of the user's organizations: the portal home
// and /account/organizations show the same list.
type orgsData struct {
	Orgs      []storage.UserOrganization
	Truncated bool
}

// listOrganizations renders page with the user's organizations.
func (h *Handler) listOrganizations(w http.ResponseWriter, r *http.Request, c *call, page string) {
	orgs, more, err := h.myOrganizations(r, c)
	if err != nil {
		h.fail(w, r, c, "list organizations", err)
		return
	}
	h.render(w, r, c, http.StatusOK, page, "Your organizations", &orgsData{Orgs: orgs, Truncated: more})
}

// getHome lists the user's organizations, with Create organization.
func (h *Handler) getHome(w http.ResponseWriter, r *http.Request, c *call) {
	h.listOrganizations(w, r, c, "home.html")
}

// getSwitch opens the organization the header's switcher chose (a form
// with method GET, so it works without JavaScript).
func (h *Handler) getSwitch(w http.ResponseWriter, r *http.Request, c *call) {
	slug := r.URL.Query().Get("o")
	if slug == "" {
		h.seeOther(w, r, h.path(c.tenant.ID, "/portal"))
		return
	}
	h.seeOther(w, r, h.orgPath(c.tenant.ID, slug, ""))
}

// postCreateOrganization creates an organization the user owns.
func (h *Handler) postCreateOrganization(w http.ResponseWriter, r *http.Request, c *call) {
	home := h.path(c.tenant.ID, "/portal")
	name := strings.TrimSpace(r.PostForm.Get("name"))
	in := manage.OrganizationInput{Name: &name, OwnerID: c.user.ID}
	if slug := strings.TrimSpace(r.PostForm.Get("slug")); slug != "" {
		in.Slug = &slug
	}
	org, err := h.m.CreateOrganization(r.Context(), c.tenant.ID, c.actor(r), in)
	if errors.Is(err, storage.ErrAlreadyExists) {
		err = fieldError("slug", "This URL is taken. Choose another slug.")
	}
	if err != nil {
		h.refuse(w, r, c, home, "create", err)
		return
	}
	h.done(w, r, h.orgPath(c.tenant.ID, org.Slug, ""), "org-created")
}

// getAccountOrganizations lists the user's organizations and roles, with
// Leave and a link into the portal (DESIGN §2 /account/organizations).
func (h *Handler) getAccountOrganizations(w http.ResponseWriter, r *http.Request, c *call) {
	h.listOrganizations(w, r, c, "account_organizations.html")
}

// postLeave removes the user from one of their organizations; the last
// owner cannot leave (manage.ErrLastOwner).
func (h *Handler) postLeave(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.path(c.tenant.ID, "/account/organizations")
	orgID := mux.Vars(r)["orgId"]
	// Leaving is the user's own act: no member Limit applies.
	a := c.actor(r)
	err := h.m.RemoveMember(r.Context(), c.tenant.ID, a, orgID, c.user.ID)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if errors.Is(err, manage.ErrLastOwner) {
		err = formError("You are the last owner of this organization. Make someone else an owner before you leave.")
	}
	if err != nil {
		h.refuse(w, r, c, back, "leave-"+orgID, err)
		return
	}
	h.done(w, r, back, "left")
}
