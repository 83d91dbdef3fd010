package manage

import (
	"context"
	"encoding/json"
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
	// JWKS, when not nil, is the JWK Set (a JSON object) of a confidential
	// application that authenticates with private_key_jwt (RFC 7523 §2.2)
	// instead of a client secret.
	JWKS json.RawMessage
	// Roles are what an m2m application owned by an organization holds in
	// it; nil means none. Such an application is always linked to its
	// organization, since that is the one organization it gets tokens for.
	Roles []string
}

// Token endpoint authentication methods (RFC 7591 §2), for the audit log.
const (
	authSecret = "client_secret_basic"
	authJWT    = "private_key_jwt"
	authNone   = "none"
)

// CreateApplication registers an OAuth client. A confidential one (web,
// m2m) gets a 256-bit secret, returned here and never again: only its
// SHA-256 is stored; one that registers a JWK Set gets none. An m2m
// application owned by an organization is linked to it with in.Roles in
// the same transaction.
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
	// The owners of an organization may rotate its applications' secrets:
	// one holding a tenant role would hand them the whole tenant.
	if app.OrganizationID != "" && len(app.TenantRoles) > 0 {
		return storage.Application{}, "", fieldErr("tenant_roles", "an application owned by an organization cannot hold tenant roles")
	}
	linked := app.OrganizationID != "" && app.Type == storage.AppM2M
	if in.Roles != nil && !linked {
		return storage.Application{}, "", fieldErr("roles", "only an m2m application owned by an organization (organization_id) gets roles when it is created; link other m2m applications to organizations")
	}
	roles := names(in.Roles)
	auth := authNone
	switch {
	case in.JWKS != nil:
		if app.Type.Public() {
			return storage.Application{}, "", fieldErr("jwks", "public clients (spa, native) hold no keys: only web and m2m applications authenticate with private_key_jwt")
		}
		if app.JWKS, err = checkJWKS("jwks", in.JWKS); err != nil {
			return storage.Application{}, "", err
		}
		auth = authJWT
	case !app.Type.Public():
		secret = secure.Token()
		app.SecretHash = secure.Hash(secret)
		auth = authSecret
	}
	details := map[string]any{
		"name": app.Name, "type": app.Type, "organization_id": app.OrganizationID, "tenant_roles": app.TenantRoles,
		"token_endpoint_auth_method": auth,
	}
	if linked {
		details["roles"] = roles
	}
	c := &change{tenant: tenant, action: "application.create", target: app.ClientID, details: details}
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
		if linked {
			if _, err := grantable(ctx, tx, tenant, app.OrganizationID, roles, a.Limit); err != nil {
				return err
			}
		}
		if err := tx.CreateApplication(ctx, app); err != nil {
			return err
		}
		if !linked {
			return nil
		}
		return tx.LinkApplication(ctx, storage.ApplicationLink{
			TenantID: tenant, OrganizationID: app.OrganizationID, ClientID: app.ClientID, Roles: roles, CreatedAt: app.CreatedAt,
		})
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

// DeleteApplication removes an application, its refresh tokens and its
// links.
func (s *Service) DeleteApplication(ctx context.Context, tenant string, a Actor, clientID string) error {
	return s.deleteApplication(ctx, tenant, a, "", clientID)
}

// RotateApplicationSecret gives a confidential application a new secret,
// returned here and never again; the old one stops working at once.
// ErrNotFound; ErrNoSecret for an application without a secret.
func (s *Service) RotateApplicationSecret(ctx context.Context, tenant string, a Actor, clientID string) (string, error) {
	return s.rotateSecret(ctx, tenant, a, "", clientID)
}

// The applications an organization owns, for its own members
// (self-service). Another organization's application and a tenant-wide
// one are ErrNotFound, like one that does not exist.

// ListOrganizationApplications pages through the applications orgID
// owns, oldest first.
func (s *Service) ListOrganizationApplications(ctx context.Context, tenant, orgID string, p storage.Page) ([]storage.Application, string, error) {
	return s.store.ListOrganizationApplications(ctx, tenant, orgID, p)
}

// GetOrganizationApplication returns an application orgID owns.
func (s *Service) GetOrganizationApplication(ctx context.Context, tenant, orgID, clientID string) (storage.Application, error) {
	app, err := s.store.GetApplication(ctx, tenant, clientID)
	if err != nil {
		return storage.Application{}, err
	}
	if app.OrganizationID != orgID {
		return storage.Application{}, storage.ErrNotFound
	}
	return app, nil
}

// DeleteOrganizationApplication removes an application orgID owns.
func (s *Service) DeleteOrganizationApplication(ctx context.Context, tenant string, a Actor, orgID, clientID string) error {
	return s.deleteApplication(ctx, tenant, a, orgID, clientID)
}

// RotateOrganizationApplicationSecret rotates the secret of an
// application orgID owns.
func (s *Service) RotateOrganizationApplicationSecret(ctx context.Context, tenant string, a Actor, orgID, clientID string) (string, error) {
	return s.rotateSecret(ctx, tenant, a, orgID, clientID)
}

// deleteApplication removes clientID; with owner, only if owner owns it.
func (s *Service) deleteApplication(ctx context.Context, tenant string, a Actor, owner, clientID string) error {
	c := &change{tenant: tenant, action: "application.delete", target: clientID}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		if owner != "" {
			if _, err := ownedApplication(ctx, tx, tenant, a, owner, clientID); err != nil {
				return err
			}
		}
		return tx.DeleteApplication(ctx, tenant, clientID)
	})
	if err == nil && s.appGone != nil {
		s.appGone(tenant, clientID)
	}
	return err
}

// rotateSecret replaces the secret of clientID; with owner, only if owner
// owns it.
func (s *Service) rotateSecret(ctx context.Context, tenant string, a Actor, owner, clientID string) (string, error) {
	secret := secure.Token()
	c := &change{tenant: tenant, action: "application.rotate_secret", target: clientID}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		app, err := ownedApplication(ctx, tx, tenant, a, owner, clientID)
		if err != nil {
			return err
		}
		if app.Type.Public() || app.JWKS != nil || len(app.SecretHash) == 0 {
			return ErrNoSecret
		}
		return tx.SetApplicationSecret(ctx, tenant, clientID, secure.Hash(secret))
	})
	if err != nil {
		return "", err
	}
	s.changed(tenant, clientID)
	return secret, nil
}

// changed tells the protocol side that an application's secret or links
// changed, so this replica drops what it cached of it at once (others
// within their cache's 1 s).
func (s *Service) changed(tenant, clientID string) {
	if s.appChanged != nil {
		s.appChanged(tenant, clientID)
	}
}

// ownedApplication reads clientID for a change. With owner, an
// application owner does not own is ErrNotFound. A limited actor must
// also hold every permission the application holds in owner: whoever
// deletes it or learns its new secret could otherwise act beyond their
// own rights (an admin taking over an application with the role owner).
func ownedApplication(ctx context.Context, tx storage.Store, tenant string, a Actor, owner, clientID string) (storage.Application, error) {
	app, err := tx.GetApplication(ctx, tenant, clientID)
	if err != nil {
		return storage.Application{}, err
	}
	if owner == "" {
		return app, nil
	}
	if app.OrganizationID != owner {
		return storage.Application{}, storage.ErrNotFound
	}
	if a.Limit == nil {
		return app, nil
	}
	access, err := tx.GetApplicationAccess(ctx, tenant, owner, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return app, nil // not linked: it holds nothing there
	}
	if err != nil {
		return storage.Application{}, err
	}
	if !subset(access.Permissions, a.Limit.Permissions) {
		return storage.Application{}, ErrForbidden
	}
	return app, nil
}
