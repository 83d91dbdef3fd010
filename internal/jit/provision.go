package jit

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Actor is the audit log's actor of provisioning.
const Actor = "jit"

// AuditAction is the audit action of a membership made by provisioning.
const AuditAction = "organization.members.jit"

// DefaultRoles are the roles of an organization whose rule sets none.
var DefaultRoles = []string{storage.RoleMember}

// Roles returns the default roles of a rule: DefaultRoles when never set.
func Roles(r storage.JITRule) []string {
	if r.Roles == nil {
		return DefaultRoles
	}
	return r.Roles
}

// Provision runs just-in-time provisioning for u, at most once per user:
// when u's email is verified and provisioning has not run for u yet, it
// records that it ran and, when an organization lists the email's
// domain, makes u a member there with the rule's roles, audited with
// actor "jit". Pass the Store of a transaction (with u's change in it) so
// that all of it is stored or none is; u must be the user as stored.
//
// Provisioning only ever looks at new users (DESIGN §3): running once,
// at the first verified sight, means a later domain rule never adds an
// existing user, and a member an admin removed is never added again.
//
// It returns the organization joined, or "" for none.
func Provision(ctx context.Context, tx storage.Store, u storage.User, at time.Time) (string, error) {
	if !u.EmailVerified || u.Email == "" || !u.ProvisionedAt.IsZero() {
		return "", nil
	}
	err := tx.MarkUserProvisioned(ctx, u.TenantID, u.ID, at)
	if errors.Is(err, storage.ErrConflict) {
		return "", nil // another path provisioned the user first
	}
	if err != nil {
		return "", err
	}
	domain, err := EmailDomain(u.Email)
	if err != nil {
		return "", nil // an address no rule can list
	}
	rule, err := tx.FindJITRule(ctx, u.TenantID, domain)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	// A member already (an invitation got there first)? Asked before
	// inserting: a failed insert would abort a PostgreSQL transaction.
	_, err = tx.GetMembership(ctx, u.TenantID, rule.OrganizationID, u.ID)
	if err == nil {
		return "", nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	roles := Roles(rule)
	err = tx.AddMembership(ctx, storage.Membership{
		TenantID: u.TenantID, OrganizationID: rule.OrganizationID, UserID: u.ID, Roles: roles, JoinedAt: at,
	})
	if err != nil {
		return "", err
	}
	details, err := json.Marshal(map[string]any{"user_id": u.ID, "roles": roles, "email_domain": domain})
	if err != nil {
		return "", err
	}
	err = tx.AppendAudit(ctx, storage.AuditEntry{
		TenantID: u.TenantID, ID: secure.ID("aud"), Actor: Actor, Action: AuditAction,
		Target: rule.OrganizationID, Details: details, CreatedAt: at,
	})
	if err != nil {
		return "", err
	}
	return rule.OrganizationID, nil
}

// OrganizationRoles returns the default roles of orgID's rule, for a user
// an organization's own identity service signs in (DESIGN §3 "Identity
// tokens"). ErrNotFound when there is no such organization.
func OrganizationRoles(ctx context.Context, st storage.JITStore, tenantID, orgID string) ([]string, error) {
	r, err := st.GetJITRule(ctx, tenantID, orgID)
	if err != nil {
		return nil, err
	}
	return Roles(r), nil
}
