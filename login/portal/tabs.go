package portal

import "net/http"

// tab is one tab of an organization's portal (DESIGN §5), visible to the
// members who hold Perm; its routes are served only to them (others get
// 403).
type tab struct {
	Label  string
	Path   string // under /portal/o/{slug}
	Perm   string
	routes func(h *Handler) []route
}

// route is one page or form of a tab. perm is what it needs: a tab's
// forms need the write permission of what they change.
type route struct {
	post bool
	path string
	perm string
	fn   handlerFunc
}

func page(path, perm string, fn handlerFunc) route { return route{path: path, perm: perm, fn: fn} }
func action(path, perm string, fn handlerFunc) route {
	return route{post: true, path: path, perm: perm, fn: fn}
}

// orgTabs are the tabs in the order DESIGN §5 lists them. Settings needs
// write:organization (owner and admin), not read:organization, which
// every built-in role holds. (A function: the tabs' pages render with
// the tab list, and a package variable would be an initialization cycle.)
func orgTabs() []tab {
	return []tab{
		{"Applications", "/applications", "read:applications", (*Handler).applicationRoutes},
		{"Members", "/members", "read:members", (*Handler).memberRoutes},
		{"Invitations", "/invitations", "read:members", (*Handler).invitationRoutes},
		{"Roles", "/roles", "read:roles", (*Handler).roleRoutes},
		{"Authentication", "/authentication", "read:keys", (*Handler).authenticationRoutes},
		{"Settings", "/settings", "write:organization", (*Handler).settingsRoutes},
		{"Billing", "/billing", "read:billing", (*Handler).billingRoutes},
	}
}

// tabLink is a tab in the organization's header.
type tabLink struct {
	Label   string
	Href    string
	Current bool
}

// visibleTabs are the tabs c's user may open, current marking the one of
// the page at path (relative to the organization).
func (h *Handler) visibleTabs(c *call, rel string) []tabLink {
	var out []tabLink
	for _, t := range h.tabs {
		if !c.can(t.Perm) {
			continue
		}
		cur := rel == t.Path || len(rel) > len(t.Path) && rel[:len(t.Path)+1] == t.Path+"/"
		out = append(out, tabLink{Label: t.Label, Href: h.orgPath(c.tenant.ID, c.org.Organization.Slug, t.Path), Current: cur})
	}
	return out
}

// getOrgHome opens the first tab the user may see.
func (h *Handler) getOrgHome(w http.ResponseWriter, r *http.Request, c *call) {
	for _, t := range h.tabs {
		if c.can(t.Perm) {
			to := h.orgPath(c.tenant.ID, c.org.Organization.Slug, t.Path)
			if q := r.URL.RawQuery; q != "" {
				to += "?" + q // a notice (?done=) goes along
			}
			h.seeOther(w, r, to)
			return
		}
	}
	// A member with no role sees no tab.
	h.render(w, r, c, http.StatusOK, "org_empty.html", "Organization", nil)
}
