package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

type applicationRequest struct {
	Name                   string   `json:"name"`
	Type                   string   `json:"type"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	OrganizationID         string   `json:"organization_id"`
	TenantRoles            []string `json:"tenant_roles"`
	IDTokenAlg             string   `json:"id_token_signed_response_alg"`
}

const msgNoApplication = "no such application"

func (h *Handler) listApplications(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	apps, next, err := h.m.ListApplications(r.Context(), c.tenant.ID, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listOf(apps, next, viewApplication), nil
}

// createApplication answers 201 with the client secret of a confidential
// application: the only time it is shown.
func (h *Handler) createApplication(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body applicationRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	app, secret, err := h.m.CreateApplication(r.Context(), c.tenant.ID, c.actor, manage.ApplicationInput{
		Name: body.Name, Type: storage.ApplicationType(body.Type), RedirectURIs: body.RedirectURIs,
		PostLogoutRedirectURIs: body.PostLogoutRedirectURIs, OrganizationID: body.OrganizationID,
		TenantRoles: body.TenantRoles, IDTokenAlg: body.IDTokenAlg,
	})
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
