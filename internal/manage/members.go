package manage

import (
	"context"
	"errors"
	"slices"

	"github.com/orgid/orgid/storage"
)

// DefaultMemberRoles are the roles of a member added without any named:
// being added to an organization means being its member. An explicit
// empty list adds a member with no roles.
var DefaultMemberRoles = []string{storage.RoleMember}

// AddMembers makes users members of an organization with the same roles,
// all in one transaction: either every user is added or none is.
// roles nil means DefaultMemberRoles. ErrNotFound when there is no such
// organization; ErrAlreadyExists when a user is a member already; a
// FieldError on user_ids for a user who does not exist.
func (s *Service) AddMembers(ctx context.Context, tenant string, a Actor, orgID string, userIDs, roles []string) ([]storage.Member, error) {
	if roles == nil {
		roles = DefaultMemberRoles
	}
	roles = names(roles)
	users := names(userIDs)
	switch {
	case len(users) == 0:
		return nil, fieldErr("user_ids", "name at least one user")
	case len(users) > maxBatch:
		return nil, fieldErr("user_ids", "at most %d users at once", maxBatch)
	case slices.Contains(users, ""):
		return nil, fieldErr("user_ids", "must not be empty")
	}
	now := s.now()
	var added []storage.Member
	c := &change{tenant: tenant, action: "organization.members.add", target: orgID, details: map[string]any{"user_ids": users, "roles": roles}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		if _, err := tx.GetOrganization(ctx, tenant, orgID); err != nil {
			return err
		}
		if _, err := grantable(ctx, tx, tenant, orgID, roles, a.Limit); err != nil {
			return err
		}
		added = make([]storage.Member, 0, len(users))
		for _, id := range users {
			u, err := tx.GetUser(ctx, tenant, id)
			if errors.Is(err, storage.ErrNotFound) {
				return fieldErr("user_ids", "there is no user %q", id)
			}
			if err != nil {
				return err
			}
			m := storage.Membership{TenantID: tenant, OrganizationID: orgID, UserID: id, Roles: roles, JoinedAt: now}
			if err := tx.AddMembership(ctx, m); err != nil {
				return err
			}
			added = append(added, storage.Member{Membership: m, Email: u.Email, Name: u.Name})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// ListMembers pages through an organization's members, oldest first.
// ErrNotFound when there is no such organization.
func (s *Service) ListMembers(ctx context.Context, tenant, orgID string, p storage.Page) ([]storage.Member, string, error) {
	if _, err := s.store.GetOrganization(ctx, tenant, orgID); err != nil {
		return nil, "", err
	}
	return s.store.ListMembers(ctx, tenant, orgID, p)
}

// SetMemberRoles replaces a member's roles. ErrNotFound when the
// organization does not exist or the user is not a member of it;
// ErrLastOwner when it would leave the organization without an owner.
func (s *Service) SetMemberRoles(ctx context.Context, tenant string, a Actor, orgID, userID string, roles []string) (storage.Member, error) {
	roles = names(roles)
	var out storage.Member
	c := &change{tenant: tenant, action: "organization.member.roles.set", target: orgID, details: map[string]any{"user_id": userID, "roles": roles}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		m, err := tx.GetMembership(ctx, tenant, orgID, userID)
		if err != nil {
			return err
		}
		perms, err := grantable(ctx, tx, tenant, orgID, roles, a.Limit)
		if err != nil {
			return err
		}
		if err := checkTarget(perms, m.Roles, a.Limit); err != nil {
			return err
		}
		if err := tx.SetMemberRoles(ctx, tenant, orgID, userID, roles); err != nil {
			return err
		}
		if slices.Contains(m.Roles, storage.RoleOwner) && !slices.Contains(roles, storage.RoleOwner) {
			if err := stillOwned(ctx, tx, tenant, orgID); err != nil {
				return err
			}
		}
		u, err := tx.GetUser(ctx, tenant, userID)
		if err != nil {
			return err
		}
		m.Roles = roles
		out = storage.Member{Membership: m, Email: u.Email, Name: u.Name}
		return nil
	})
	if err != nil {
		return storage.Member{}, err
	}
	return out, nil
}

// RemoveMember takes a user out of an organization. ErrNotFound when the
// organization does not exist or the user is not a member of it;
// ErrLastOwner when the user is its last owner.
func (s *Service) RemoveMember(ctx context.Context, tenant string, a Actor, orgID, userID string) error {
	c := &change{tenant: tenant, action: "organization.member.remove", target: orgID, details: map[string]any{"user_id": userID}}
	return s.write(ctx, a, c, func(tx storage.Store) error {
		m, err := tx.GetMembership(ctx, tenant, orgID, userID)
		if err != nil {
			return err
		}
		if a.Limit != nil {
			perms, err := orgRoles(ctx, tx, tenant, orgID)
			if err != nil {
				return err
			}
			if err := checkTarget(perms, m.Roles, a.Limit); err != nil {
				return err
			}
		}
		if err := tx.RemoveMembership(ctx, tenant, orgID, userID); err != nil {
			return err
		}
		if slices.Contains(m.Roles, storage.RoleOwner) {
			return stillOwned(ctx, tx, tenant, orgID)
		}
		return nil
	})
}

// MemberAccess returns what a user is in an organization now: its roles
// and permissions. ErrNotFound when the organization does not exist or
// the user is not a member (callers must answer both the same way).
func (s *Service) MemberAccess(ctx context.Context, tenant, orgID, userID string) (storage.MemberAccess, error) {
	return s.store.GetMemberAccess(ctx, tenant, orgID, userID)
}

// stillOwned is checked after a change, inside its transaction: counting
// after the write (rather than before) means two transactions that each
// remove one of two owners cannot both see "another owner is left" on a
// backend that serialises writers.
func stillOwned(ctx context.Context, tx storage.Store, tenant, orgID string) error {
	n, err := tx.CountMembersWithRole(ctx, tenant, orgID, storage.RoleOwner)
	if err != nil {
		return err
	}
	if n == 0 {
		return lastOwner(orgID)
	}
	return nil
}

// orgRoles maps the names of the roles members of orgID may hold to their
// permissions.
func orgRoles(ctx context.Context, tx storage.Store, tenant, orgID string) (map[string][]string, error) {
	roles, err := tx.ListRoles(ctx, tenant, orgID)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(roles))
	for _, r := range roles {
		out[r.Name] = r.Permissions
	}
	return out, nil
}

// grantable loads orgID's roles and checks that roles may be granted
// there by a caller with limit (checkRoles); it returns the roles'
// permissions for further checks.
func grantable(ctx context.Context, tx storage.Store, tenant, orgID string, roles []string, limit *Limit) (map[string][]string, error) {
	perms, err := orgRoles(ctx, tx, tenant, orgID)
	if err != nil {
		return nil, err
	}
	return perms, checkRoles(perms, roles, limit)
}

// checkRoles requires every role to exist for the organization and, for a
// limited actor, to grant nothing the actor does not hold.
func checkRoles(known map[string][]string, roles []string, limit *Limit) error {
	for _, r := range roles {
		perms, ok := known[r]
		if !ok {
			return fieldErr("roles", "there is no role %q in this organization", r)
		}
		if limit != nil && !subset(perms, limit.Permissions) {
			return fieldErr("roles", "you cannot grant %q: it holds permissions you do not", r)
		}
	}
	return nil
}

// checkTarget keeps a limited actor from changing or removing a member who
// holds permissions the actor does not (an admin cannot demote an owner).
func checkTarget(known map[string][]string, targetRoles []string, limit *Limit) error {
	if limit == nil {
		return nil
	}
	for _, r := range targetRoles {
		if !subset(known[r], limit.Permissions) {
			return ErrForbidden
		}
	}
	return nil
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
