package op

import (
	"context"
	"errors"
	"log/slog"

	"github.com/orgid/orgid/internal/jit"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// identityUser returns the user an identity token is about, linked by
// (provider ID, subject). A first sign-in creates the user just in time,
// links them and makes them a member of the key's organization (DESIGN
// §3); later ones bring the profile up to date.
//
// Two first sign-ins may race: the loser's link fails with
// ErrAlreadyExists and it reads the winner's. A new user's email that
// belongs to another account already is left out rather than linking
// the accounts: an identity service must not take over an account of
// another sign-in method.
func (p *Provider) identityUser(ctx context.Context, tenant string, a *identityAssertion) (storage.User, error) {
	withEmail := true
	for range 3 {
		x, err := p.cfg.Store.GetExternalIdentity(ctx, tenant, a.org.ProviderID, a.subject)
		if err == nil {
			return p.identityProfile(ctx, tenant, x.UserID, a)
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return storage.User{}, err
		}
		u, err := p.provisionIdentityUser(ctx, tenant, a, withEmail)
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return u, err
		}
		// Either another sign-in linked the subject first (read its
		// link), or the email is another user's (try without it).
		withEmail = false
	}
	return storage.User{}, errors.New("op: identity user: provisioning kept conflicting")
}

// provisionIdentityUser creates, links and admits a new user in one
// transaction.
func (p *Provider) provisionIdentityUser(ctx context.Context, tenant string, a *identityAssertion, withEmail bool) (storage.User, error) {
	now := p.now().UTC()
	c := a.claims
	u := storage.User{TenantID: tenant, ID: secure.ID("usr"), Name: c.profileName(), CreatedAt: now, UpdatedAt: now}
	if withEmail && c.Email != "" {
		u.Email = c.Email
		u.EmailVerified = c.EmailVerified != nil && *c.EmailVerified
	}
	err := p.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateExternalIdentity(ctx, storage.ExternalIdentity{
			TenantID: tenant, ProviderID: a.org.ProviderID, Subject: a.subject, UserID: u.ID, CreatedAt: now,
		}); err != nil {
			return err
		}
		// The key's organization admits the user with its JIT default
		// roles (DESIGN §3 "Identity tokens")...
		roles, err := jit.OrganizationRoles(ctx, tx, tenant, a.org.ID)
		if err != nil {
			return err
		}
		if err := tx.AddMembership(ctx, storage.Membership{
			TenantID: tenant, OrganizationID: a.org.ID, UserID: u.ID, Roles: roles, JoinedAt: now,
		}); err != nil {
			return err
		}
		// ...and an asserted verified email provisions by its domain, as
		// every other path does.
		_, err = jit.Provision(ctx, tx, u, now)
		return err
	})
	if err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// identityProfile loads a linked user and writes the profile claims of
// the token that changed. A failed update is logged, not fatal: the
// sign-in itself is sound.
func (p *Provider) identityProfile(ctx context.Context, tenant, userID string, a *identityAssertion) (storage.User, error) {
	u, err := p.cfg.Store.GetUser(ctx, tenant, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, errUserGone
	}
	if err != nil {
		return storage.User{}, err
	}
	c := a.claims
	next := u
	if name := c.profileName(); name != "" {
		next.Name = name
	}
	if c.Email != "" && c.Email != u.Email {
		next.Email, next.EmailVerified = c.Email, false
	}
	if c.EmailVerified != nil && next.Email == c.Email {
		next.EmailVerified = *c.EmailVerified
	}
	if next.Name == u.Name && next.Email == u.Email && next.EmailVerified == u.EmailVerified {
		return u, nil
	}
	next.UpdatedAt = p.now().UTC()
	if next.EmailVerified && next.ProvisionedAt.IsZero() {
		// The email is seen verified for the first time: provisioning
		// must run with the change, so both go in one transaction.
		err := p.cfg.Store.WithTx(ctx, func(tx storage.Store) error {
			if err := tx.UpdateUser(ctx, next); err != nil {
				return err
			}
			_, err := jit.Provision(ctx, tx, next, next.UpdatedAt)
			return err
		})
		if err != nil {
			p.log.WarnContext(ctx, "update identity user profile", slog.String("user", u.ID), slog.Any("error", err))
			return u, nil
		}
		return next, nil
	}
	if err := p.cfg.Store.UpdateUser(ctx, next); err != nil {
		p.log.WarnContext(ctx, "update identity user profile", slog.String("user", u.ID), slog.Any("error", err))
		return u, nil
	}
	return next, nil
}
