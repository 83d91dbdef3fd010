package portal

import (
	"errors"
	"net/http"
	"strings"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// roleRoutes are the Roles tab: the tenant's template roles (read-only
// here: tenant administrators change them through the management API)
// and the organization's own custom roles, with Create role.
func (h *Handler) roleRoutes() []route {
	return []route{
		page("/roles", "read:roles", h.getRoles),
		action("/roles", "write:roles", h.postCreateRole),
	}
}

type rolesData struct {
	Template []storage.Role
	Custom   []storage.Role
	// Permissions are the tenant's, offered as the new role's checkboxes.
	Permissions []storage.Permission
	// Held are the user's own permissions here: a role can grant only
	// those (manage.Limit), so the others are marked.
	Held     []string
	CanWrite bool
}

// permissions are all of the tenant's permissions (a short list, read
// in pages of the largest size).
func (h *Handler) permissions(r *http.Request, c *call) ([]storage.Permission, error) {
	var out []storage.Permission
	p := storage.Page{Size: storage.MaxPageSize}
	for {
		perms, next, err := h.m.ListPermissions(r.Context(), c.tenant.ID, p)
		if err != nil {
			return nil, err
		}
		out = append(out, perms...)
		if next == "" {
			return out, nil
		}
		p.After = next
	}
}

func (h *Handler) getRoles(w http.ResponseWriter, r *http.Request, c *call) {
	roles, err := h.orgRoles(r, c)
	if err != nil {
		h.fail(w, r, c, "list roles", err)
		return
	}
	d := &rolesData{Held: c.org.Permissions, CanWrite: c.can("write:roles")}
	for _, role := range roles {
		if role.OrganizationID == "" {
			d.Template = append(d.Template, role)
		} else {
			d.Custom = append(d.Custom, role)
		}
	}
	if d.CanWrite {
		if d.Permissions, err = h.permissions(r, c); err != nil {
			h.fail(w, r, c, "list permissions", err)
			return
		}
	}
	h.render(w, r, c, http.StatusOK, "roles.html", "Roles · "+c.org.Organization.Name, d)
}

// postCreateRole adds a custom role to the organization. Like the
// self-service API, it grants only permissions the user holds here: manage
// refuses others at the permissions field.
func (h *Handler) postCreateRole(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/roles")
	in := manage.RoleInput{
		Name:        strings.TrimSpace(r.PostForm.Get("name")),
		Description: strings.TrimSpace(r.PostForm.Get("description")),
		Permissions: []string{},
	}
	for _, p := range r.PostForm["permissions"] {
		if p = strings.TrimSpace(p); p != "" {
			in.Permissions = append(in.Permissions, p)
		}
	}
	_, err := h.m.CreateOrganizationRole(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, in)
	var fe *storage.FieldError
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		err = fieldError("name", "There is a role with this name already. Choose another name.")
	case errors.As(err, &fe) && fe.Field == "permissions":
		// manage's message is a clause about one permission ("there is
		// no permission …", "you cannot grant …"), not about the field.
		err = fieldError("permissions", capitalized(fe.Message))
	}
	if err != nil {
		h.refuse(w, r, c, back, "create-role", err)
		return
	}
	h.done(w, r, back, "role-created")
}

// capitalized makes a clause a sentence.
func capitalized(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
