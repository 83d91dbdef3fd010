package adminapi

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/storage"
)

// addMembersRequest adds one user (user_id) or many (user_ids) with the
// same roles; without roles they become members (role member).
type addMembersRequest struct {
	UserID  *string  `json:"user_id"`
	UserIDs []string `json:"user_ids"`
	Roles   []string `json:"roles"`
}

type rolesRequest struct {
	Roles []string `json:"roles"`
}

const msgNoMember = "no such organization, or the user is not a member of it"

func (h *Handler) listMembers(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Member, string, error) {
		members, next, err := h.m.ListMembers(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"], p)
		return members, next, notFound(err, msgNoOrganization)
	}, viewMember)
}

// addMembers answers 201 with the new members as {"items": [...]}, for one
// user as for many.
func (h *Handler) addMembers(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body addMembersRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	field, users := "user_ids", body.UserIDs
	switch {
	case body.UserID != nil && body.UserIDs != nil:
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", "user_id", "give user_id or user_ids, not both")
	case body.UserID != nil:
		field, users = "user_id", []string{*body.UserID}
	case body.UserIDs == nil:
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", "user_id", "is required (or user_ids)")
	}
	added, err := h.m.AddMembers(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], users, body.Roles)
	var fe *storage.FieldError
	if errors.As(err, &fe) && fe.Field == "user_ids" {
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", field, fe.Message)
	}
	if err != nil {
		return 0, nil, notFound(conflict(err, field, "the user is a member already"), msgNoOrganization)
	}
	return http.StatusCreated, listOf(added, "", viewMember), nil
}

func (h *Handler) removeMember(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	if err := h.m.RemoveMember(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["userId"]); err != nil {
		return 0, nil, notFound(err, msgNoMember)
	}
	return http.StatusNoContent, nil, nil
}

func (h *Handler) setMemberRoles(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body rolesRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	if body.Roles == nil {
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", "roles", "is required (an empty list removes every role)")
	}
	v := mux.Vars(r)
	m, err := h.m.SetMemberRoles(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["userId"], body.Roles)
	if err != nil {
		return 0, nil, notFound(err, msgNoMember)
	}
	return http.StatusOK, viewMember(m), nil
}
