package manage

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/orgid/orgid/internal/jit"
	"github.com/orgid/orgid/storage"
)

// An organization's just-in-time provisioning rule (DESIGN §3): the email
// domains whose new, verified users join it, and the roles they get.
// Provisioning itself is jit.Provision; this is the rule's management.

// maxJITDomains bounds the domains one organization lists.
const maxJITDomains = 100

// ConflictError is storage.ErrAlreadyExists with what exists in words the
// client may read, and the request field it is about.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return "manage: " + e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, storage.ErrAlreadyExists) hold.
func (e *ConflictError) Unwrap() error { return storage.ErrAlreadyExists }

// JITEmailDomains returns the domains orgID lists, normalised and sorted.
// ErrNotFound when there is no such organization.
func (s *Service) JITEmailDomains(ctx context.Context, tenant, orgID string) ([]string, error) {
	r, err := s.store.GetJITRule(ctx, tenant, orgID)
	if err != nil {
		return nil, err
	}
	return names(r.EmailDomains), nil
}

// SetJITEmailDomains replaces the domains orgID lists and returns them
// normalised (lowercase, IDNA A-labels), sorted and without duplicates;
// an empty list clears them. A FieldError on email_domains for an entry
// that is no domain name or is a public mail provider's, or for more than
// maxJITDomains entries; a ConflictError when another organization of the
// tenant lists one of them (a domain places its users in one organization
// only); ErrNotFound when there is no such organization.
func (s *Service) SetJITEmailDomains(ctx context.Context, tenant string, a Actor, orgID string, domains []string) ([]string, error) {
	norm, err := normalizeJITDomains(domains)
	if err != nil {
		return nil, err
	}
	c := &change{tenant: tenant, action: "organization.jit.email_domains.set", target: orgID, details: map[string]any{"email_domains": norm}}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		if _, err := tx.GetOrganization(ctx, tenant, orgID); err != nil {
			return err
		}
		return setJITDomains(ctx, tx, tenant, orgID, norm)
	})
	if err != nil {
		return nil, err
	}
	return norm, nil
}

// SetJITRule replaces both halves of orgID's rule, its domains and its
// default roles, in one transaction with one audit entry: either both are
// saved or neither (the portal's one form). Refusals are those of
// SetJITEmailDomains and SetJITRoles.
func (s *Service) SetJITRule(ctx context.Context, tenant string, a Actor, orgID string, domains, roles []string) (storage.JITRule, error) {
	norm, err := normalizeJITDomains(domains)
	if err != nil {
		return storage.JITRule{}, err
	}
	roles = names(roles)
	c := &change{tenant: tenant, action: "organization.jit.set", target: orgID,
		details: map[string]any{"email_domains": norm, "roles": roles}}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		if _, err := tx.GetOrganization(ctx, tenant, orgID); err != nil {
			return err
		}
		// The roles first: they are checked without writing, and a
		// refused domain write would abort a PostgreSQL transaction.
		if _, err := grantable(ctx, tx, tenant, orgID, roles, a.Limit); err != nil {
			return err
		}
		if err := setJITDomains(ctx, tx, tenant, orgID, norm); err != nil {
			return err
		}
		return tx.SetJITRoles(ctx, tenant, orgID, roles)
	})
	if err != nil {
		return storage.JITRule{}, err
	}
	return storage.JITRule{TenantID: tenant, OrganizationID: orgID, EmailDomains: norm, Roles: roles}, nil
}

// normalizeJITDomains returns domains normalised (lowercase, IDNA
// A-labels), sorted and without duplicates, or the FieldError of the
// first entry that is no domain name or a public mail provider's.
func normalizeJITDomains(domains []string) ([]string, error) {
	if len(domains) > maxJITDomains {
		return nil, fieldErr("email_domains", "at most %d domains", maxJITDomains)
	}
	norm := make([]string, 0, len(domains))
	for i, d := range domains {
		n, err := jit.NormalizeDomain(d)
		if err != nil {
			return nil, fieldErr("email_domains", "email_domains[%d] (%s) is not a domain name", i, quoted(d))
		}
		if jit.IsPublicMailDomain(n) {
			return nil, fieldErr("email_domains", "email_domains[%d] (%s) is a public mail provider's domain: anyone can have an address there, so it cannot place users in an organization", i, quoted(n))
		}
		norm = append(norm, n)
	}
	return names(norm), nil
}

// setJITDomains stores orgID's normalised domains through tx: a
// ConflictError when another organization of the tenant lists one.
func setJITDomains(ctx context.Context, tx storage.Store, tenant, orgID string, norm []string) error {
	// Asked first, to name the domain (and because a failed insert
	// would abort a PostgreSQL transaction); the store's own
	// ErrAlreadyExists still guards against a concurrent writer.
	for _, d := range norm {
		r, err := tx.FindJITRule(ctx, tenant, d)
		switch {
		case err == nil && r.OrganizationID != orgID:
			return &ConflictError{Field: "email_domains", Message: fmt.Sprintf("%s is listed by another organization of this tenant", d)}
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	err := tx.SetJITEmailDomains(ctx, tenant, orgID, norm)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return &ConflictError{Field: "email_domains", Message: "another organization of this tenant lists one of these domains"}
	}
	return err
}

// JITRoles returns the roles that provisioning gives in orgID: the rule's,
// or jit.DefaultRoles when none were ever set. ErrNotFound when there is
// no such organization.
func (s *Service) JITRoles(ctx context.Context, tenant, orgID string) ([]string, error) {
	r, err := s.store.GetJITRule(ctx, tenant, orgID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(jit.Roles(r)), nil
}

// SetJITRoles replaces the roles provisioning gives in orgID (an empty
// list: membership without roles). Each must be a role of the
// organization that the actor may grant (FieldError on roles):
// provisioning grants them on the actor's behalf. ErrNotFound when there
// is no such organization.
func (s *Service) SetJITRoles(ctx context.Context, tenant string, a Actor, orgID string, roles []string) ([]string, error) {
	roles = names(roles)
	c := &change{tenant: tenant, action: "organization.jit.roles.set", target: orgID, details: map[string]any{"roles": roles}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		if _, err := tx.GetOrganization(ctx, tenant, orgID); err != nil {
			return err
		}
		if _, err := grantable(ctx, tx, tenant, orgID, roles, a.Limit); err != nil {
			return err
		}
		return tx.SetJITRoles(ctx, tenant, orgID, roles)
	})
	if err != nil {
		return nil, err
	}
	return roles, nil
}

// quoted quotes client input for a message, cut short: the message must
// say which entry is wrong without echoing a megabyte back.
func quoted(s string) string {
	const limit = 64
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
