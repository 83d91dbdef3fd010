package adminapi

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// An organization's invitations (DESIGN §3 "Invitations", §4): created,
// listed with their status at the time of the call, resent with a new
// link, and revoked. No answer ever holds a link's secret: it is only in
// the mail.

// invitationRequest is {email, roles?, expires_in?}; roles default to
// ["member"], expires_in (seconds) to 7 days.
type invitationRequest struct {
	Email     *string  `json:"email"`
	Roles     []string `json:"roles"`
	ExpiresIn *int64   `json:"expires_in"`
}

const msgNoInvitation = "no such organization, or it has no invitation with this ID"

func (h *Handler) createInvitation(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body invitationRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	if body.Email == nil {
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", "email", "is required")
	}
	inv, err := h.m.CreateInvitation(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], manage.InvitationInput{
		Email: *body.Email, Roles: body.Roles, ExpiresIn: body.ExpiresIn,
	})
	if err != nil {
		return 0, nil, notFound(conflictOf(err), msgNoOrganization)
	}
	return http.StatusCreated, viewInvitation(inv), nil
}

func (h *Handler) listInvitations(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Invitation, string, error) {
		invs, next, err := h.m.ListInvitations(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"], p)
		return invs, next, notFound(err, msgNoOrganization)
	}, viewInvitation)
}

func (h *Handler) getInvitation(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	inv, err := h.m.GetInvitation(r.Context(), c.tenant.ID, v["orgId"], v["invitationId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoInvitation)
	}
	return http.StatusOK, viewInvitation(inv), nil
}

func (h *Handler) resendInvitation(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	inv, err := h.m.ResendInvitation(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["invitationId"])
	if err != nil {
		return 0, nil, notFound(closed(err), msgNoInvitation)
	}
	return http.StatusOK, viewInvitation(inv), nil
}

func (h *Handler) revokeInvitation(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	if err := h.m.RevokeInvitation(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["invitationId"]); err != nil {
		return 0, nil, notFound(closed(err), msgNoInvitation)
	}
	return http.StatusNoContent, nil, nil
}

// closed answers a change to an invitation that is no longer pending.
func closed(err error) error {
	var ce *manage.InvitationClosedError
	switch {
	case errors.As(err, &ce) && ce.Status == storage.InvitationAccepted:
		return newError(http.StatusConflict, "already-accepted", "the invitation was accepted: it can be neither resent nor revoked")
	case errors.As(err, &ce) && ce.Status == storage.InvitationRevoked:
		return newError(http.StatusConflict, "already-revoked", "the invitation was revoked: it can be neither resent nor revoked again; invite the address anew")
	case errors.Is(err, manage.ErrForbidden):
		return newError(http.StatusForbidden, "forbidden", "the invitation grants permissions you do not hold: you may neither resend nor revoke it")
	case errors.Is(err, storage.ErrConflict):
		// The store's compare-and-set lost to a concurrent change.
		return newError(http.StatusConflict, "already-revoked", "the invitation is no longer pending")
	}
	return err
}
