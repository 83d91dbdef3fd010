package manage

import (
	"context"
	"errors"

	"github.com/orgid/orgid/storage"
)

// LinkedApplication is an m2m application linked to an organization
// (DESIGN §3, way 4: it gets organization tokens for it with Roles), with
// the application's name.
type LinkedApplication struct {
	storage.ApplicationLink
	Name string
}

// LinkApplication links the m2m application clientID to orgID with roles
// (nil means none). ErrNotFound when there is no such organization;
// ErrAlreadyExists when the application is linked to it already; a
// FieldError on application_id for an application that does not exist,
// is not m2m or is owned by another organization, and on roles for a
// role orgID does not have. A limited actor (self-service) links only
// applications their organization owns.
func (s *Service) LinkApplication(ctx context.Context, tenant string, a Actor, orgID, clientID string, roles []string) (LinkedApplication, error) {
	if clientID == "" {
		return LinkedApplication{}, fieldErr("application_id", "is required")
	}
	roles = names(roles)
	var out LinkedApplication
	c := &change{tenant: tenant, action: "application.link", target: clientID, details: map[string]any{"organization_id": orgID, "roles": roles}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		if _, err := tx.GetOrganization(ctx, tenant, orgID); err != nil {
			return err
		}
		app, err := tx.GetApplication(ctx, tenant, clientID)
		switch {
		case a.Limit != nil && (errors.Is(err, storage.ErrNotFound) || (err == nil && app.OrganizationID != orgID)):
			// One answer for "none" and "not ours": a member cannot
			// probe for the tenant's or other organizations' applications.
			return fieldErr("application_id", "this organization has no application %q", clientID)
		case errors.Is(err, storage.ErrNotFound):
			return fieldErr("application_id", "there is no application %q", clientID)
		case err != nil:
			return err
		case app.Type != storage.AppM2M:
			return fieldErr("application_id", "only m2m applications can be linked to organizations; %q is a %s application", clientID, app.Type)
		case app.OrganizationID != "" && app.OrganizationID != orgID:
			return fieldErr("application_id", "%q is owned by another organization and gets tokens for that one only", clientID)
		}
		if _, err := grantable(ctx, tx, tenant, orgID, roles, a.Limit); err != nil {
			return err
		}
		l := storage.ApplicationLink{TenantID: tenant, OrganizationID: orgID, ClientID: clientID, Roles: roles, CreatedAt: s.now()}
		if err := tx.LinkApplication(ctx, l); err != nil {
			return err
		}
		out = LinkedApplication{ApplicationLink: l, Name: app.Name}
		return nil
	})
	if err != nil {
		return LinkedApplication{}, err
	}
	return out, nil
}

// SetApplicationLinkRoles replaces the roles of a linked application.
// ErrNotFound when the organization does not exist or the application is
// not linked to it.
func (s *Service) SetApplicationLinkRoles(ctx context.Context, tenant string, a Actor, orgID, clientID string, roles []string) (LinkedApplication, error) {
	roles = names(roles)
	var out LinkedApplication
	c := &change{tenant: tenant, action: "application.link_roles", target: clientID, details: map[string]any{"organization_id": orgID, "roles": roles}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		l, app, perms, err := linkForChange(ctx, tx, tenant, a, orgID, clientID)
		if err != nil {
			return err
		}
		if err := checkRoles(perms, roles, a.Limit); err != nil {
			return err
		}
		if err := tx.SetApplicationLinkRoles(ctx, tenant, orgID, clientID, roles); err != nil {
			return err
		}
		l.Roles = roles
		out = LinkedApplication{ApplicationLink: l, Name: app.Name}
		return nil
	})
	if err != nil {
		return LinkedApplication{}, err
	}
	s.changed(tenant, clientID)
	return out, nil
}

// UnlinkApplication removes the link of clientID to orgID: the
// application gets no more tokens for it. ErrNotFound when there is no
// such link.
func (s *Service) UnlinkApplication(ctx context.Context, tenant string, a Actor, orgID, clientID string) error {
	c := &change{tenant: tenant, action: "application.unlink", target: clientID, details: map[string]any{"organization_id": orgID}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		if a.Limit != nil {
			if _, _, _, err := linkForChange(ctx, tx, tenant, a, orgID, clientID); err != nil {
				return err
			}
		}
		return tx.UnlinkApplication(ctx, tenant, orgID, clientID)
	})
	if err == nil {
		s.changed(tenant, clientID)
	}
	return err
}

// ListApplicationLinks pages through the applications linked to orgID,
// oldest link first. ErrNotFound when there is no such organization.
func (s *Service) ListApplicationLinks(ctx context.Context, tenant, orgID string, p storage.Page) ([]LinkedApplication, string, error) {
	if _, err := s.store.GetOrganization(ctx, tenant, orgID); err != nil {
		return nil, "", err
	}
	links, next, err := s.store.ListApplicationLinks(ctx, tenant, orgID, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]LinkedApplication, 0, len(links))
	for _, l := range links {
		app, err := s.store.GetApplication(ctx, tenant, l.ClientID)
		if errors.Is(err, storage.ErrNotFound) {
			continue // deleted since the page was read: its links are gone too
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, LinkedApplication{ApplicationLink: l, Name: app.Name})
	}
	return out, next, nil
}

// linkForChange reads the link of clientID to orgID, the application and
// the organization's roles for a change to the link. A limited actor may
// change only the links of applications their organization owns, and
// only those holding no permission the actor lacks.
func linkForChange(ctx context.Context, tx storage.Store, tenant string, a Actor, orgID, clientID string) (storage.ApplicationLink, storage.Application, map[string][]string, error) {
	l, err := findLink(ctx, tx, tenant, orgID, clientID)
	if err != nil {
		return storage.ApplicationLink{}, storage.Application{}, nil, err
	}
	app, err := tx.GetApplication(ctx, tenant, clientID)
	if err != nil {
		return storage.ApplicationLink{}, storage.Application{}, nil, err
	}
	perms, err := orgRoles(ctx, tx, tenant, orgID)
	if err != nil {
		return storage.ApplicationLink{}, storage.Application{}, nil, err
	}
	if a.Limit != nil {
		if app.OrganizationID != orgID {
			return storage.ApplicationLink{}, storage.Application{}, nil, ErrNotOwned
		}
		if err := checkTarget(perms, l.Roles, a.Limit); err != nil {
			return storage.ApplicationLink{}, storage.Application{}, nil, err
		}
	}
	return l, app, perms, nil
}

// findLink returns the link of clientID to orgID, ErrNotFound when there
// is none. The store has no lookup of one link, so this pages through the
// organization's links: an organization links a handful of m2m
// applications, so it is one query in practice, and it is never on a
// token request's path.
func findLink(ctx context.Context, tx storage.Store, tenant, orgID, clientID string) (storage.ApplicationLink, error) {
	p := storage.Page{Size: storage.MaxPageSize}
	for {
		links, next, err := tx.ListApplicationLinks(ctx, tenant, orgID, p)
		if err != nil {
			return storage.ApplicationLink{}, err
		}
		for _, l := range links {
			if l.ClientID == clientID {
				return l, nil
			}
		}
		if next == "" {
			return storage.ApplicationLink{}, storage.ErrNotFound
		}
		p.After = next
	}
}
