package portal

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// invitationRoutes are the Invitations tab (DESIGN §3 "Invitations"): the
// organization's invitations with their status and expiry, Resend (a new
// link; the old one stops working) and Revoke (after a confirmation page,
// so that it works without JavaScript). Inviting is on the Members tab
// (postInvite), which lands here.
func (h *Handler) invitationRoutes() []route {
	return []route{
		page("/invitations", "read:members", h.getInvitations),
		action("/invitations/{id}/resend", "write:members", h.postResendInvitation),
		page("/invitations/{id}/revoke", "write:members", h.getRevokeInvitation),
		action("/invitations/{id}/revoke", "write:members", h.postRevokeInvitation),
	}
}

type invitationsData struct {
	Invitations []storage.Invitation
	Next        string
	CanWrite    bool
}

func (h *Handler) getInvitations(w http.ResponseWriter, r *http.Request, c *call) {
	// manage computes each status at its clock: a pending invitation past
	// its expiry comes back as expired.
	invs, next, err := h.m.ListInvitations(r.Context(), c.tenant.ID, c.org.Organization.ID, pageOf(r))
	if err != nil {
		h.listFail(w, r, c, "list invitations", err)
		return
	}
	h.render(w, r, c, http.StatusOK, "invitations.html", "Invitations · "+c.org.Organization.Name, &invitationsData{
		Invitations: invs, Next: nextLink(r, next), CanWrite: c.can("write:members"),
	})
}

// invitationRefusal words manage's refusals of a resend or a revoke.
func invitationRefusal(err error) error {
	var closed *manage.InvitationClosedError
	switch {
	case errors.As(err, &closed):
		return formError("This invitation was " + string(closed.Status) + " already: there is nothing to resend or revoke.")
	case errors.Is(err, manage.ErrForbidden):
		return formError("This invitation grants roles you do not hold: someone who holds them must resend or revoke it.")
	}
	return err
}

func (h *Handler) postResendInvitation(w http.ResponseWriter, r *http.Request, c *call) {
	back := h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/invitations")
	id := mux.Vars(r)["id"]
	_, err := h.m.ResendInvitation(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.refuse(w, r, c, back, "invitation-"+id, invitationRefusal(err))
		return
	}
	h.done(w, r, back, "invitation-resent")
}

type revokeInvitationData struct {
	Invitation storage.Invitation
}

// getRevokeInvitation asks for confirmation.
func (h *Handler) getRevokeInvitation(w http.ResponseWriter, r *http.Request, c *call) {
	inv, err := h.m.GetInvitation(r.Context(), c.tenant.ID, c.org.Organization.ID, mux.Vars(r)["id"])
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.fail(w, r, c, "load invitation", err)
		return
	}
	h.render(w, r, c, http.StatusOK, "invitation_revoke.html", "Revoke invitation · "+c.org.Organization.Name,
		&revokeInvitationData{Invitation: inv})
}

func (h *Handler) postRevokeInvitation(w http.ResponseWriter, r *http.Request, c *call) {
	id := mux.Vars(r)["id"]
	err := h.m.RevokeInvitation(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.refuse(w, r, c, h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/invitations/"+id+"/revoke"), "revoke", invitationRefusal(err))
		return
	}
	h.done(w, r, h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/invitations"), "invitation-revoked")
}
