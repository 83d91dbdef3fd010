package portal

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// memberRoutes are the Members tab: the list with roles and join dates,
// change roles, remove (after a confirmation page, so that it works
// without JavaScript; never the last owner) and Invite member.
func (h *Handler) memberRoutes() []route {
	return []route{
		page("/members", "read:members", h.getMembers),
		action("/members/{userId}/roles", "write:members", h.postMemberRoles),
		page("/members/{userId}/remove", "write:members", h.getRemoveMember),
		action("/members/{userId}/remove", "write:members", h.postRemoveMember),
		action("/members/invite", "write:members", h.postInvite),
	}
}

type membersData struct {
	Members  []storage.Member
	Roles    []storage.Role
	Next     string
	CanWrite bool
	Me       string
}

// orgRoles are the roles members can be given here: the template's and
// the organization's own (short lists).
func (h *Handler) orgRoles(r *http.Request, c *call) ([]storage.Role, error) {
	roles, _, err := h.m.ListOrganizationRoles(r.Context(), c.tenant.ID, c.org.Organization.ID, storage.Page{Size: storage.MaxPageSize})
	return roles, err
}

func (h *Handler) getMembers(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	members, next, err := h.m.ListMembers(ctx, c.tenant.ID, c.org.Organization.ID, pageOf(r))
	if err != nil {
		h.listFail(w, r, c, "list members", err)
		return
	}
	roles, err := h.orgRoles(r, c)
	if err != nil {
		h.fail(w, r, c, "list roles", err)
		return
	}
	h.render(w, r, c, http.StatusOK, "members.html", "Members · "+c.org.Organization.Name, &membersData{
		Members: members, Roles: roles, Next: nextLink(r, next), CanWrite: c.can("write:members"), Me: c.user.ID,
	})
}

// listFail answers a list that could not be read: a bad ?page= cursor is
// the user's (400), anything else fail's.
func (h *Handler) listFail(w http.ResponseWriter, r *http.Request, c *call, what string, err error) {
	var fe *storage.FieldError
	if errors.As(err, &fe) {
		h.render(w, r, c, http.StatusBadRequest, "message.html", "Bad link", &messageData{
			Heading: "Bad link", Text: "This page link is not valid.", Link: &link{Href: r.URL.Path, Text: "Start from the first page"},
		})
		return
	}
	h.fail(w, r, c, what, err)
}

// postedRoles are the role names a form's checkboxes (name="roles") chose.
func postedRoles(r *http.Request) []string {
	var out []string
	for _, v := range r.PostForm["roles"] {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (h *Handler) postMemberRoles(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/members")
	userID := mux.Vars(r)["userId"]
	_, err := h.m.SetMemberRoles(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, userID, postedRoles(r))
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.refuse(w, r, c, back, "member-"+userID, err)
		return
	}
	h.done(w, r, back, "roles-changed")
}

// findMember is one member of the page's organization, or nil.
func (h *Handler) findMember(r *http.Request, c *call, userID string) (*storage.Member, error) {
	m, err := h.cfg.Store.GetMembership(r.Context(), c.tenant.ID, c.org.Organization.ID, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := h.cfg.Store.GetUser(r.Context(), c.tenant.ID, userID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return &storage.Member{Membership: m, Email: u.Email, Name: u.Name}, nil
}

type removeData struct {
	Member storage.Member
	Self   bool
}

// getRemoveMember asks for confirmation.
func (h *Handler) getRemoveMember(w http.ResponseWriter, r *http.Request, c *call) {
	m, err := h.findMember(r, c, mux.Vars(r)["userId"])
	if err != nil {
		h.fail(w, r, c, "load member", err)
		return
	}
	if m == nil {
		h.notFound(w, r, c)
		return
	}
	h.render(w, r, c, http.StatusOK, "member_remove.html", "Remove member · "+c.org.Organization.Name,
		&removeData{Member: *m, Self: m.UserID == c.user.ID})
}

func (h *Handler) postRemoveMember(w http.ResponseWriter, r *http.Request, c *call) {
	userID := mux.Vars(r)["userId"]
	err := h.m.RemoveMember(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, userID)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if errors.Is(err, manage.ErrLastOwner) {
		err = formError("This is the organization's last owner. Make someone else an owner first.")
	}
	if err != nil {
		h.refuse(w, r, c, h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/members/"+userID+"/remove"), "remove", err)
		return
	}
	if userID == c.user.ID {
		// Removing oneself leaves the organization.
		h.done(w, r, h.path(c.tenant.ID, "/portal"), "left")
		return
	}
	h.done(w, r, h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/members"), "member-removed")
}

// postInvite invites an email with roles (DESIGN §3 Invitations).
func (h *Handler) postInvite(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/members")
	in := manage.InvitationInput{Email: strings.TrimSpace(r.PostForm.Get("email")), Roles: postedRoles(r)}
	if in.Roles == nil {
		in.Roles = []string{}
	}
	_, err := h.m.CreateInvitation(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, in)
	if err != nil {
		h.refuse(w, r, c, back, "invite", err)
		return
	}
	h.done(w, r, h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/invitations"), "invited")
}
