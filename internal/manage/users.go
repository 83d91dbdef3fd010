package manage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// UserInput is a new user or a change to one; nil fields are not given.
type UserInput struct {
	Email         *string
	EmailVerified *bool
	Name          *string
	// Password is the plain password, hashed here; never stored or logged.
	Password *string
	// TenantRoles replaces the user's tenant roles: storage.TenantRoleAdmin
	// makes a tenant administrator.
	TenantRoles *[]string
}

// check validates the given fields and hashes the password (argon2id is
// slow, so this runs before any transaction opens).
func (in UserInput) check() (hash string, err error) {
	if in.Email != nil {
		if err := checkEmail("email", *in.Email); err != nil {
			return "", err
		}
	}
	if in.Name != nil && *in.Name != "" {
		if err := checkName("name", *in.Name); err != nil {
			return "", err
		}
	}
	if in.TenantRoles != nil {
		if err := checkTenantRoles(*in.TenantRoles); err != nil {
			return "", err
		}
	}
	if in.Password == nil {
		return "", nil
	}
	if err := checkPassword("password", *in.Password); err != nil {
		return "", err
	}
	hash, err = password.Hash(*in.Password)
	if err != nil {
		return "", fmt.Errorf("manage: hash password: %w", err)
	}
	return hash, nil
}

// fields names the given fields for the audit log (never their values:
// an email is personal data, a password a secret).
func (in UserInput) fields() []string {
	var out []string
	for name, given := range map[string]bool{
		"email": in.Email != nil, "email_verified": in.EmailVerified != nil, "name": in.Name != nil, "password": in.Password != nil,
		"tenant_roles": in.TenantRoles != nil,
	} {
		if given {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// CreateUser creates a user; the email is required, the password
// optional (a user without one signs in some other way). ErrAlreadyExists
// when the email is taken, compared case-insensitively. A user created
// here gets no personal organization: that is for people who sign up.
func (s *Service) CreateUser(ctx context.Context, tenant string, a Actor, in UserInput) (storage.User, error) {
	if in.Email == nil {
		return storage.User{}, fieldErr("email", "is required")
	}
	hash, err := in.check()
	if err != nil {
		return storage.User{}, err
	}
	now := s.now()
	u := storage.User{TenantID: tenant, ID: secure.ID("usr"), Email: *in.Email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if in.EmailVerified != nil {
		u.EmailVerified = *in.EmailVerified
	}
	if in.Name != nil {
		u.Name = *in.Name
	}
	c := &change{tenant: tenant, action: "user.create", target: u.ID, details: map[string]any{"fields": in.fields()}}
	if in.TenantRoles != nil {
		u.TenantRoles = names(*in.TenantRoles)
		c.details = map[string]any{"fields": in.fields(), "tenant_roles": u.TenantRoles}
	}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil || u.TenantRoles == nil {
			return err
		}
		return tx.SetUserTenantRoles(ctx, tenant, u.ID, u.TenantRoles)
	})
	if err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// GetUser returns one user.
func (s *Service) GetUser(ctx context.Context, tenant, id string) (storage.User, error) {
	return s.store.GetUser(ctx, tenant, id)
}

// UpdateUser changes the given fields. A new email is unverified unless
// email_verified is given too: the old address's verification says
// nothing about the new one.
func (s *Service) UpdateUser(ctx context.Context, tenant string, a Actor, id string, in UserInput) (storage.User, error) {
	hash, err := in.check()
	if err != nil {
		return storage.User{}, err
	}
	var u storage.User
	c := &change{tenant: tenant, action: "user.update", target: id, details: map[string]any{"fields": in.fields()}}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		if u, err = tx.GetUser(ctx, tenant, id); err != nil {
			return err
		}
		if in.Email != nil && *in.Email != u.Email {
			u.Email, u.EmailVerified = *in.Email, false
		}
		if in.EmailVerified != nil {
			u.EmailVerified = *in.EmailVerified
		}
		if in.Name != nil {
			u.Name = *in.Name
		}
		if in.Password != nil {
			u.PasswordHash = hash
		}
		u.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, u); err != nil || in.TenantRoles == nil {
			return err
		}
		roles := names(*in.TenantRoles)
		if err := keepOwnAdmin(a, id, u.TenantRoles, roles); err != nil {
			return err
		}
		c.details = map[string]any{"fields": in.fields(), "tenant_roles": roles}
		u.TenantRoles = roles
		return tx.SetUserTenantRoles(ctx, tenant, id, roles)
	})
	if err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// DeleteUser removes a user with their memberships and refresh tokens.
// ErrLastOwner when the user is the last owner of an organization: that
// organization needs another owner, or to be deleted, first.
func (s *Service) DeleteUser(ctx context.Context, tenant string, a Actor, id string) error {
	c := &change{tenant: tenant, action: "user.delete", target: id}
	return s.write(ctx, a, c, func(tx storage.Store) error {
		ms, err := tx.ListUserMemberships(ctx, tenant, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, tenant, id); err != nil {
			return err
		}
		for _, m := range ms {
			if slices.Contains(m.Roles, storage.RoleOwner) {
				if err := stillOwned(ctx, tx, tenant, m.OrganizationID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ListUserOrganizations pages through the organizations a user belongs
// to, with the user's roles there, by organization ID. ErrNotFound when
// there is no such user.
func (s *Service) ListUserOrganizations(ctx context.Context, tenant, userID string, p storage.Page) ([]storage.UserOrganization, string, error) {
	if _, err := s.store.GetUser(ctx, tenant, userID); err != nil {
		return nil, "", err
	}
	all, err := s.store.ListUserOrganizations(ctx, tenant, userID)
	if err != nil {
		return nil, "", err
	}
	return pageOf("userorg", all, func(o storage.UserOrganization) string { return o.ID }, p)
}

// ResetUserMFA removes the user's second factor and recovery codes, for a
// user who lost their authenticator: they enrol again at their next
// sign-in. ErrNotFound when the user has no factor (or does not exist).
func (s *Service) ResetUserMFA(ctx context.Context, tenant string, a Actor, id string) error {
	c := &change{tenant: tenant, action: "user.mfa_reset", target: id}
	return s.write(ctx, a, c, func(tx storage.Store) error { return tx.DeleteMFA(ctx, tenant, id) })
}

// SetUserTenantRoles replaces a user's tenant roles (only
// storage.TenantRoleAdmin exists): a tenant administrator manages the
// whole tenant in the portal and may use the management API. A FieldError
// on tenant_roles for an unknown role, or when the actor would take their
// own admin role away (someone else must: the tenant is never left
// without the administrator who was using it); ErrNotFound.
func (s *Service) SetUserTenantRoles(ctx context.Context, tenant string, a Actor, id string, roles []string) (storage.User, error) {
	if err := checkTenantRoles(roles); err != nil {
		return storage.User{}, err
	}
	roles = names(roles)
	var u storage.User
	c := &change{tenant: tenant, action: "user.tenant_roles", target: id, details: map[string]any{"tenant_roles": roles}}
	err := s.write(ctx, a, c, func(tx storage.Store) (err error) {
		if u, err = tx.GetUser(ctx, tenant, id); err != nil {
			return err
		}
		if err := keepOwnAdmin(a, id, u.TenantRoles, roles); err != nil {
			return err
		}
		u.TenantRoles = roles
		return tx.SetUserTenantRoles(ctx, tenant, id, roles)
	})
	if err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// IsTenantAdmin reports whether u administers their tenant.
func IsTenantAdmin(u storage.User) bool {
	return slices.Contains(u.TenantRoles, storage.TenantRoleAdmin)
}

// SearchUsers pages through the tenant's users, oldest first, keeping
// those whose email or name contains query (trimmed), case-insensitively.
// A query longer than an email can be is a FieldError on q.
func (s *Service) SearchUsers(ctx context.Context, tenant, query string, p storage.Page) ([]storage.User, string, error) {
	query = strings.TrimSpace(query)
	if len(query) > maxEmailLen {
		return nil, "", fieldErr("q", "must be at most %d characters", maxEmailLen)
	}
	return s.store.SearchUsers(ctx, tenant, query, p)
}

func checkTenantRoles(roles []string) error {
	for _, r := range roles {
		if r != storage.TenantRoleAdmin {
			return fieldErr("tenant_roles", "unknown tenant role %q (the only one is %q)", r, storage.TenantRoleAdmin)
		}
	}
	return nil
}

// keepOwnAdmin refuses a change by which the actor would take their own
// tenant admin role away.
func keepOwnAdmin(a Actor, id string, had, roles []string) error {
	if a.ID == id && slices.Contains(had, storage.TenantRoleAdmin) && !slices.Contains(roles, storage.TenantRoleAdmin) {
		return fieldErr("tenant_roles", "you cannot take away your own admin role: another tenant administrator must")
	}
	return nil
}
