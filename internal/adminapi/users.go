package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// userRequest is the body of POST, PUT and PATCH on a user; absent fields
// are not changed. The password is write-only.
type userRequest struct {
	Email         *string `json:"email"`
	Password      *string `json:"password"`
	Name          *string `json:"name"`
	EmailVerified *bool   `json:"email_verified"`
}

func (b userRequest) input() manage.UserInput {
	return manage.UserInput{Email: b.Email, Password: b.Password, Name: b.Name, EmailVerified: b.EmailVerified}
}

const (
	msgNoUser     = "no such user"
	msgEmailTaken = "a user with this email already exists"
	msgNoMFA      = "no such user, or the user has no MFA factor"
)

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body userRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	u, err := h.m.CreateUser(r.Context(), c.tenant.ID, c.actor, body.input())
	if err != nil {
		return 0, nil, conflict(err, "email", msgEmailTaken)
	}
	return http.StatusCreated, viewUser(u), nil
}

func (h *Handler) getUser(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	u, err := h.m.GetUser(r.Context(), c.tenant.ID, mux.Vars(r)["userId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoUser)
	}
	return http.StatusOK, viewUser(u), nil
}

// updateUser serves PUT and PATCH alike: both change only the fields given.
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body userRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	u, err := h.m.UpdateUser(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["userId"], body.input())
	if err != nil {
		return 0, nil, notFound(conflict(err, "email", msgEmailTaken), msgNoUser)
	}
	return http.StatusOK, viewUser(u), nil
}

func (h *Handler) deleteUser(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	if err := h.m.DeleteUser(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["userId"]); err != nil {
		return 0, nil, notFound(err, msgNoUser)
	}
	return http.StatusNoContent, nil, nil
}

// resetUserMFA removes a user's second factor (DESIGN §3 MFA), for one
// who lost their authenticator and recovery codes.
func (h *Handler) resetUserMFA(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	if err := h.m.ResetUserMFA(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["userId"]); err != nil {
		return 0, nil, notFound(err, msgNoMFA)
	}
	return http.StatusNoContent, nil, nil
}

func (h *Handler) listUserOrganizations(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.UserOrganization, string, error) {
		orgs, next, err := h.m.ListUserOrganizations(r.Context(), c.tenant.ID, mux.Vars(r)["userId"], p)
		return orgs, next, notFound(err, msgNoUser)
	}, viewUserOrganization)
}
