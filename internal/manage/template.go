package manage

import (
	"context"
	"errors"
	"slices"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// CreatePermission adds a permission to the tenant's organization
// template. ErrAlreadyExists for a taken name.
func (s *Service) CreatePermission(ctx context.Context, tenant string, a Actor, name, description string) (storage.Permission, error) {
	if err := checkPermissionName("name", name); err != nil {
		return storage.Permission{}, err
	}
	if err := checkText("description", description, maxDescriptionLen); err != nil {
		return storage.Permission{}, err
	}
	p := storage.Permission{TenantID: tenant, Name: name, Description: description, CreatedAt: s.now()}
	c := &change{tenant: tenant, action: "permission.create", target: name}
	err := s.write(ctx, a, c, func(tx storage.Store) error { return tx.CreatePermission(ctx, p) })
	if err != nil {
		return storage.Permission{}, err
	}
	return p, nil
}

// ListPermissions pages through the template's permissions by name.
func (s *Service) ListPermissions(ctx context.Context, tenant string, p storage.Page) ([]storage.Permission, string, error) {
	all, err := s.store.ListPermissions(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	return pageOf("perm", all, func(p storage.Permission) string { return p.Name }, p)
}

// RoleInput is a new role.
type RoleInput struct {
	Name        string
	Description string
	// Permissions are permission names of the tenant's template.
	Permissions []string
}

// CreateTemplateRole adds a role that every organization of the tenant
// has. ErrAlreadyExists when the name is taken, by a template role or any
// organization's custom role.
func (s *Service) CreateTemplateRole(ctx context.Context, tenant string, a Actor, in RoleInput) (storage.Role, error) {
	return s.createRole(ctx, tenant, a, "", in)
}

// CreateOrganizationRole adds a custom role to one organization.
// ErrNotFound when there is no such organization; ErrAlreadyExists when
// the name is a template role's or another custom role's of it.
func (s *Service) CreateOrganizationRole(ctx context.Context, tenant string, a Actor, orgID string, in RoleInput) (storage.Role, error) {
	return s.createRole(ctx, tenant, a, orgID, in)
}

func (s *Service) createRole(ctx context.Context, tenant string, a Actor, orgID string, in RoleInput) (storage.Role, error) {
	if err := checkRoleName("name", in.Name); err != nil {
		return storage.Role{}, err
	}
	if err := checkText("description", in.Description, maxDescriptionLen); err != nil {
		return storage.Role{}, err
	}
	r := storage.Role{
		TenantID: tenant, ID: secure.ID("rol"), OrganizationID: orgID, Name: in.Name,
		Description: in.Description, Permissions: names(in.Permissions), CreatedAt: s.now(),
	}
	for _, p := range r.Permissions {
		if err := checkPermissionName("permissions", p); err != nil {
			return storage.Role{}, err
		}
	}
	action := "role.create"
	if orgID != "" {
		action = "organization.role.create"
	}
	c := &change{tenant: tenant, action: action, target: r.ID, details: map[string]any{
		"name": r.Name, "organization_id": orgID, "permissions": r.Permissions,
	}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		if orgID != "" {
			if _, err := tx.GetOrganization(ctx, tenant, orgID); err != nil {
				return err
			}
		}
		known, err := tx.ListPermissions(ctx, tenant)
		if err != nil {
			return err
		}
		for _, p := range r.Permissions {
			if !slices.ContainsFunc(known, func(k storage.Permission) bool { return k.Name == p }) {
				return fieldErr("permissions", "there is no permission %q", p)
			}
		}
		// Only a permission that exists can be one the caller does not
		// hold: unknown ones are named as unknown above.
		if a.Limit != nil {
			for _, p := range r.Permissions {
				if !slices.Contains(a.Limit.Permissions, p) {
					return fieldErr("permissions", "you cannot grant %q: you do not hold it", p)
				}
			}
		}
		err = tx.CreateRole(ctx, r)
		if errors.Is(err, storage.ErrNotFound) {
			// The organization and the permissions were there a moment
			// ago in this transaction: one was removed concurrently.
			return fieldErr("permissions", "a permission no longer exists")
		}
		return err
	})
	if err != nil {
		return storage.Role{}, err
	}
	return r, nil
}

// ListTemplateRoles pages through the template roles by name.
func (s *Service) ListTemplateRoles(ctx context.Context, tenant string, p storage.Page) ([]storage.Role, string, error) {
	all, err := s.store.ListRoles(ctx, tenant, "")
	if err != nil {
		return nil, "", err
	}
	return pageOf("role", all, roleKey, p)
}

// ListOrganizationRoles pages through the roles an organization's members
// may hold: the template roles and its custom roles, by name.
// ErrNotFound when there is no such organization.
func (s *Service) ListOrganizationRoles(ctx context.Context, tenant, orgID string, p storage.Page) ([]storage.Role, string, error) {
	if _, err := s.store.GetOrganization(ctx, tenant, orgID); err != nil {
		return nil, "", err
	}
	all, err := s.store.ListRoles(ctx, tenant, orgID)
	if err != nil {
		return nil, "", err
	}
	return pageOf("orgrole", all, roleKey, p)
}

// roleKey orders roles by name; a custom role never shares a template
// role's name, so names are unique within one list.
func roleKey(r storage.Role) string { return r.Name }
