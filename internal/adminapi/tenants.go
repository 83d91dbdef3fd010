package adminapi

import (
	"net/http"

	"github.com/orgid/orgid/storage"
)

type tenantRequest struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// onlyDefault keeps the tenants resource on tenant default's API: any
// other tenant's administrators manage their tenant, not the deployment.
func onlyDefault(c *call) error {
	if c.tenant.ID != storage.DefaultTenant {
		return newError(http.StatusNotFound, "not-found", "tenants are managed through tenant default's API")
	}
	return nil
}

func (h *Handler) listTenants(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	if err := onlyDefault(c); err != nil {
		return 0, nil, err
	}
	return listed(r, func(p storage.Page) ([]storage.Tenant, string, error) {
		return h.m.ListTenants(r.Context(), p)
	}, h.viewTenant)
}

// createTenant answers 201 with the new tenant's first admin client; its
// secret is shown only here.
func (h *Handler) createTenant(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	if err := onlyDefault(c); err != nil {
		return 0, nil, err
	}
	var body tenantRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	nt, err := h.m.CreateTenant(r.Context(), c.tenant.ID, c.actor, body.Slug, body.Name)
	if err != nil {
		return 0, nil, conflict(err, "slug", "a tenant with this slug already exists")
	}
	v := h.viewTenant(nt.Tenant)
	v.AdminClient = &clientCredentials{ClientID: nt.ClientID, ClientSecret: nt.ClientSecret}
	return http.StatusCreated, v, nil
}

func (h *Handler) viewTenant(t storage.Tenant) tenantView {
	return tenantView{Slug: t.ID, Name: t.Name, Issuer: h.cfg.Issuer(t.ID), CreatedAt: t.CreatedAt.UTC()}
}
