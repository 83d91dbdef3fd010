package manage

import (
	"context"
	"errors"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// ApplicationInput is a new application.
type ApplicationInput struct {
	Name                   string
	Type                   storage.ApplicationType
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// OrganizationID makes the application owned by one organization.
	OrganizationID string
	// TenantRoles: "admin" lets an m2m application use the management API.
	TenantRoles []string
	// IDTokenAlg signs the application's ID tokens; empty means RS256.
	IDTokenAlg string
}

// CreateApplication registers an OAuth client. A confidential one (web,
// m2m) gets a 256-bit secret, returned here and never again: only its
// SHA-256 is stored.
func (s *Service) CreateApplication(ctx context.Context, tenant string, a Actor, in ApplicationInput) (app storage.Application, secret string, err error) {
	app = storage.Application{
		TenantID:               tenant,
		ClientID:               secure.ID(""),
		Name:                   in.Name,
		Type:                   in.Type,
		RedirectURIs:           in.RedirectURIs,
		PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		OrganizationID:         in.OrganizationID,
		TenantRoles:            names(in.TenantRoles),
		IDTokenAlg:             in.IDTokenAlg,
		CreatedAt:              s.now(),
	}
	if err := app.Validate(); err != nil {
		return storage.Application{}, "", err
	}
	if !app.Type.Public() {
		secret = secure.Token()
		app.SecretHash = secure.Hash(secret)
	}
	c := &change{tenant: tenant, action: "application.create", target: app.ClientID, details: map[string]any{
		"name": app.Name, "type": app.Type, "organization_id": app.OrganizationID, "tenant_roles": app.TenantRoles,
	}}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		if app.OrganizationID != "" {
			_, err := tx.GetOrganization(ctx, tenant, app.OrganizationID)
			if errors.Is(err, storage.ErrNotFound) {
				return fieldErr("organization_id", "there is no organization %q", app.OrganizationID)
			}
			if err != nil {
				return err
			}
		}
		return tx.CreateApplication(ctx, app)
	})
	if err != nil {
		return storage.Application{}, "", err
	}
	return app, secret, nil
}

// GetApplication returns one application.
func (s *Service) GetApplication(ctx context.Context, tenant, clientID string) (storage.Application, error) {
	return s.store.GetApplication(ctx, tenant, clientID)
}

// ListApplications pages through the tenant's applications, oldest first.
func (s *Service) ListApplications(ctx context.Context, tenant string, p storage.Page) ([]storage.Application, string, error) {
	return s.store.ListApplications(ctx, tenant, p)
}

// DeleteApplication removes an application and its refresh tokens.
func (s *Service) DeleteApplication(ctx context.Context, tenant string, a Actor, clientID string) error {
	c := &change{tenant: tenant, action: "application.delete", target: clientID}
	err := s.write(ctx, a, c, func(tx storage.Store) error { return tx.DeleteApplication(ctx, tenant, clientID) })
	if err == nil && s.appGone != nil {
		s.appGone(tenant, clientID)
	}
	return err
}
