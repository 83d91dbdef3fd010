package adminapi

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

type applicationRequest struct {
	Name                   string          `json:"name"`
	Type                   string          `json:"type"`
	RedirectURIs           []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs []string        `json:"post_logout_redirect_uris"`
	OrganizationID         string          `json:"organization_id"`
	TenantRoles            []string        `json:"tenant_roles"`
	IDTokenAlg             string          `json:"id_token_signed_response_alg"`
	JWKS                   json.RawMessage `json:"jwks"`
	Roles                  []string        `json:"roles"`
}

func (b applicationRequest) input() manage.ApplicationInput {
	return manage.ApplicationInput{
		Name: b.Name, Type: storage.ApplicationType(b.Type), RedirectURIs: b.RedirectURIs,
		PostLogoutRedirectURIs: b.PostLogoutRedirectURIs, OrganizationID: b.OrganizationID,
		TenantRoles: b.TenantRoles, IDTokenAlg: b.IDTokenAlg, JWKS: b.JWKS, Roles: b.Roles,
	}
}

// ownedApplicationRequest is an application an organization creates for
// itself: it is owned by the organization in the path and holds no tenant
// roles, so neither field is taken.
type ownedApplicationRequest struct {
	Name                   string          `json:"name"`
	Type                   string          `json:"type"`
	RedirectURIs           []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs []string        `json:"post_logout_redirect_uris"`
	IDTokenAlg             string          `json:"id_token_signed_response_alg"`
	JWKS                   json.RawMessage `json:"jwks"`
	Roles                  []string        `json:"roles"`
}

const msgNoApplication = "no such application"

func (h *Handler) listApplications(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Application, string, error) {
		return h.m.ListApplications(r.Context(), c.tenant.ID, p)
	}, viewApplication)
}

// createApplication answers 201 with the client secret of a confidential
// application: the only time it is shown.
func (h *Handler) createApplication(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body applicationRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	return h.create(r, c, body.input())
}

func (h *Handler) create(r *http.Request, c *call, in manage.ApplicationInput) (int, any, error) {
	app, secret, err := h.m.CreateApplication(r.Context(), c.tenant.ID, c.actor, in)
	if err != nil {
		return 0, nil, err
	}
	v := viewApplication(app)
	v.ClientSecret = secret
	return http.StatusCreated, v, nil
}

func (h *Handler) getApplication(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	app, err := h.m.GetApplication(r.Context(), c.tenant.ID, mux.Vars(r)["appId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoApplication)
	}
	return http.StatusOK, viewApplication(app), nil
}

func (h *Handler) deleteApplication(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	if err := h.m.DeleteApplication(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["appId"]); err != nil {
		return 0, nil, notFound(err, msgNoApplication)
	}
	return http.StatusNoContent, nil, nil
}

// rotateApplicationSecret answers 200 with the new secret, shown only
// here. It takes no body.
func (h *Handler) rotateApplicationSecret(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	id := mux.Vars(r)["appId"]
	secret, err := h.m.RotateApplicationSecret(r.Context(), c.tenant.ID, c.actor, id)
	if err != nil {
		return 0, nil, notFound(err, msgNoApplication)
	}
	return http.StatusOK, clientCredentials{ClientID: id, ClientSecret: secret}, nil
}

// The applications an organization owns, on the self-service API. Another
// organization's application and a tenant-wide one are 404, like one
// that does not exist.

const msgNoOwnedApplication = "this organization has no such application"

func (h *Handler) listOwnedApplications(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Application, string, error) {
		return h.m.ListOrganizationApplications(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"], p)
	}, viewApplication)
}

func (h *Handler) createOwnedApplication(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body ownedApplicationRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	return h.create(r, c, manage.ApplicationInput{
		Name: body.Name, Type: storage.ApplicationType(body.Type), RedirectURIs: body.RedirectURIs,
		PostLogoutRedirectURIs: body.PostLogoutRedirectURIs, OrganizationID: mux.Vars(r)["orgId"],
		IDTokenAlg: body.IDTokenAlg, JWKS: body.JWKS, Roles: body.Roles,
	})
}

func (h *Handler) getOwnedApplication(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	app, err := h.m.GetOrganizationApplication(r.Context(), c.tenant.ID, v["orgId"], v["appId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoOwnedApplication)
	}
	return http.StatusOK, viewApplication(app), nil
}

func (h *Handler) deleteOwnedApplication(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	if err := h.m.DeleteOrganizationApplication(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["appId"]); err != nil {
		return 0, nil, notFound(err, msgNoOwnedApplication)
	}
	return http.StatusNoContent, nil, nil
}

func (h *Handler) rotateOwnedApplicationSecret(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	secret, err := h.m.RotateOrganizationApplicationSecret(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["appId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoOwnedApplication)
	}
	return http.StatusOK, clientCredentials{ClientID: v["appId"], ClientSecret: secret}, nil
}
