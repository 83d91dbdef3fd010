package manage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Invitations into an organization (DESIGN §3 "Invitations", §4): an
// email, roles and an expiry, sent as a link. Only the hash of the link's
// secret is stored; the secret itself is only ever in the mail, which is
// queued in the outbox in the transaction that makes or renews the link.

// Invitation lifetimes.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	MaxInvitationTTL     = 90 * 24 * time.Hour
)

// InvitationInput asks for a new invitation.
type InvitationInput struct {
	Email string
	// Roles nil means DefaultMemberRoles.
	Roles []string
	// ExpiresIn is the lifetime in seconds; nil means DefaultInvitationTTL.
	ExpiresIn *int64
}

// InvitationClosedError refuses to resend or revoke an invitation that
// is no longer pending: it was accepted or revoked. It wraps
// storage.ErrConflict.
type InvitationClosedError struct {
	Status storage.InvitationStatus
}

func (e *InvitationClosedError) Error() string {
	return "manage: the invitation is " + string(e.Status)
}

// Unwrap makes errors.Is(err, storage.ErrConflict) hold.
func (e *InvitationClosedError) Unwrap() error { return storage.ErrConflict }

// check validates the input and returns the roles and lifetime to use.
func (in InvitationInput) check() ([]string, time.Duration, error) {
	if err := checkEmail("email", in.Email); err != nil {
		return nil, 0, err
	}
	roles := in.Roles
	if roles == nil {
		roles = DefaultMemberRoles
	}
	ttl := DefaultInvitationTTL
	if in.ExpiresIn != nil {
		// Compared in seconds, before multiplying: a huge number must
		// not overflow into a valid-looking duration.
		if n := *in.ExpiresIn; n <= 0 || n > int64(MaxInvitationTTL/time.Second) {
			return nil, 0, fieldErr("expires_in", "must be a number of seconds from 1 to %d (90 days)", int64(MaxInvitationTTL/time.Second))
		}
		ttl = time.Duration(*in.ExpiresIn) * time.Second
	}
	return names(roles), ttl, nil
}

// CreateInvitation invites an email into orgID and queues the invitation
// mail, in one transaction with the audit entry. A FieldError on email,
// roles (unknown, or beyond a limited actor's permissions) or
// expires_in; a ConflictError on email when the address is a member's
// already or has a pending invitation (to be resent instead);
// ErrNotFound when there is no such organization.
func (s *Service) CreateInvitation(ctx context.Context, tenant string, a Actor, orgID string, in InvitationInput) (storage.Invitation, error) {
	roles, ttl, err := in.check()
	if err != nil {
		return storage.Invitation{}, err
	}
	now := s.now()
	inv := storage.Invitation{
		TenantID: tenant, ID: secure.ID("inv"), OrganizationID: orgID, Email: in.Email, Roles: roles,
		Status: storage.InvitationPending, InviterID: a.ID, TTL: ttl, ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now,
	}
	// The audit entry names the invitation, never its link (a live
	// secret) nor the address (personal data, readable in the
	// invitation itself while it exists).
	c := &change{tenant: tenant, action: "organization.invitation.create", target: orgID,
		details: map[string]any{"invitation_id": inv.ID, "roles": roles, "expires_at": inv.ExpiresAt.UTC()}}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		org, err := tx.GetOrganization(ctx, tenant, orgID)
		if err != nil {
			return err
		}
		if _, err := grantable(ctx, tx, tenant, orgID, roles, a.Limit); err != nil {
			return err
		}
		if err := notInvitedYet(ctx, tx, tenant, orgID, in.Email, now); err != nil {
			return err
		}
		token := secure.Token()
		inv.TokenHash = secure.Hash(token)
		if err := tx.CreateInvitation(ctx, inv); err != nil {
			return err
		}
		return s.sendInvitation(ctx, tx, a, org, inv, token)
	})
	if err != nil {
		return storage.Invitation{}, err
	}
	inv.TokenHash = nil
	return inv, nil
}

// notInvitedYet refuses an email that is a member's already, or that has
// a pending invitation into the organization: a second link would only
// confuse; the first one is resent.
func notInvitedYet(ctx context.Context, tx storage.Store, tenant, orgID, email string, now time.Time) error {
	u, err := tx.GetUserByEmail(ctx, tenant, email)
	switch {
	case err == nil:
		_, err := tx.GetMembership(ctx, tenant, orgID, u.ID)
		if err == nil {
			return &ConflictError{Field: "email", Message: "the user with this email is a member of the organization already"}
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	case !errors.Is(err, storage.ErrNotFound):
		return err
	}
	// An organization has few invitations open at once, and the store
	// keeps no index by email: page through them.
	p := storage.Page{Size: storage.MaxPageSize}
	for {
		invs, next, err := tx.ListInvitations(ctx, tenant, orgID, p)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if strings.EqualFold(inv.Email, email) && inv.StatusAt(now) == storage.InvitationPending {
				return &ConflictError{Field: "email", Message: fmt.Sprintf("invitation %s to this email is pending: resend it instead", inv.ID)}
			}
		}
		if next == "" {
			return nil
		}
		p.After = next
	}
}

// sendInvitation queues the mail that carries the invitation's link,
// through tx so that it is sent if and only if the change commits.
func (s *Service) sendInvitation(ctx context.Context, tx storage.Store, a Actor, org storage.Organization, inv storage.Invitation, token string) error {
	if s.mail == nil {
		return errors.New("manage: no mail outbox to send the invitation through")
	}
	product := "orgid"
	t, err := tx.GetTenant(ctx, inv.TenantID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(t.Name) != "" {
		product = t.Name
	}
	inviter, err := inviterName(ctx, tx, inv.TenantID, a.ID)
	if err != nil {
		return err
	}
	msg, err := mail.Invitation(mail.InvitationData{
		TenantID: inv.TenantID, Product: product, To: inv.Email, OrganizationName: org.Name, InviterName: inviter,
		Roles: inv.Roles, Link: s.invitationLink(inv.TenantID, token), ExpiresAt: inv.ExpiresAt,
	})
	if err != nil {
		return err
	}
	return s.mail.Enqueue(ctx, tx, msg)
}

// inviterName names the actor in the mail: a user by name (or email), an
// application (an m2m or management token's client) by its name.
func inviterName(ctx context.Context, tx storage.Store, tenant, actorID string) (string, error) {
	const fallback = "An administrator"
	if actorID == "" {
		return fallback, nil
	}
	u, err := tx.GetUser(ctx, tenant, actorID)
	switch {
	case err == nil:
		if strings.TrimSpace(u.Name) != "" {
			return u.Name, nil
		}
		return u.Email, nil
	case !errors.Is(err, storage.ErrNotFound):
		return "", err
	}
	app, err := tx.GetApplication(ctx, tenant, actorID)
	switch {
	case err == nil && strings.TrimSpace(app.Name) != "":
		return app.Name, nil
	case err == nil, errors.Is(err, storage.ErrNotFound):
		return fallback, nil
	}
	return "", err
}

// invitationLink is the acceptance page's URL for token.
func (s *Service) invitationLink(tenant, token string) string {
	return strings.TrimRight(s.externalURL, "/") + "/t/" + url.PathEscape(tenant) + "/invitation?token=" + url.QueryEscape(token)
}

// ListInvitations pages through orgID's invitations, oldest first, each
// with its Status at the time of the call (expired included).
// ErrNotFound when there is no such organization.
func (s *Service) ListInvitations(ctx context.Context, tenant, orgID string, p storage.Page) ([]storage.Invitation, string, error) {
	if _, err := s.store.GetOrganization(ctx, tenant, orgID); err != nil {
		return nil, "", err
	}
	invs, next, err := s.store.ListInvitations(ctx, tenant, orgID, p)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	for i := range invs {
		invs[i] = current(invs[i], now)
	}
	return invs, next, nil
}

// GetInvitation returns one invitation of orgID with its Status at the
// time of the call. ErrNotFound.
func (s *Service) GetInvitation(ctx context.Context, tenant, orgID, id string) (storage.Invitation, error) {
	inv, err := s.store.GetInvitation(ctx, tenant, orgID, id)
	if err != nil {
		return storage.Invitation{}, err
	}
	return current(inv, s.now()), nil
}

// current is inv as callers see it at now: the status computed, the link
// hash left out.
func current(inv storage.Invitation, now time.Time) storage.Invitation {
	inv.Status = inv.StatusAt(now)
	inv.TokenHash = nil
	return inv
}

// ResendInvitation gives a pending invitation (expired or not) a new link
// — the old one stops working — and a new expiry, its lifetime from now,
// and mails it again, in one transaction. ErrNotFound; an
// InvitationClosedError when it was accepted or revoked; ErrForbidden
// when a limited actor could not grant its roles.
func (s *Service) ResendInvitation(ctx context.Context, tenant string, a Actor, orgID, id string) (storage.Invitation, error) {
	now := s.now()
	var inv storage.Invitation
	c := &change{tenant: tenant, action: "organization.invitation.resend", target: orgID, details: map[string]any{"invitation_id": id}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		var err error
		if inv, err = s.openInvitation(ctx, tx, tenant, a, orgID, id); err != nil {
			return err
		}
		ttl := inv.TTL
		if ttl <= 0 {
			ttl = DefaultInvitationTTL
		}
		token := secure.Token()
		inv.TokenHash, inv.ExpiresAt, inv.UpdatedAt = secure.Hash(token), now.Add(ttl), now
		if err := tx.RenewInvitation(ctx, tenant, orgID, id, inv.TokenHash, inv.ExpiresAt, now); err != nil {
			return err
		}
		c.details = map[string]any{"invitation_id": id, "expires_at": inv.ExpiresAt.UTC()}
		org, err := tx.GetOrganization(ctx, tenant, orgID)
		if err != nil {
			return err
		}
		return s.sendInvitation(ctx, tx, a, org, inv, token)
	})
	if err != nil {
		return storage.Invitation{}, err
	}
	return current(inv, now), nil
}

// RevokeInvitation revokes a pending invitation (expired or not): its
// link stops working. ErrNotFound; an InvitationClosedError when it was
// accepted or revoked already; ErrForbidden when a limited actor could
// not grant its roles.
func (s *Service) RevokeInvitation(ctx context.Context, tenant string, a Actor, orgID, id string) error {
	c := &change{tenant: tenant, action: "organization.invitation.revoke", target: orgID, details: map[string]any{"invitation_id": id}}
	return s.write(ctx, a, c, func(tx storage.Store) error {
		if _, err := s.openInvitation(ctx, tx, tenant, a, orgID, id); err != nil {
			return err
		}
		return tx.RevokeInvitation(ctx, tenant, orgID, id, s.now())
	})
}

// openInvitation loads a pending invitation that a may act on: a limited
// actor only on invitations whose roles they could grant themselves, as
// with members (an admin neither renews nor withdraws an owner's
// invitation).
func (s *Service) openInvitation(ctx context.Context, tx storage.Store, tenant string, a Actor, orgID, id string) (storage.Invitation, error) {
	inv, err := tx.GetInvitation(ctx, tenant, orgID, id)
	if err != nil {
		return storage.Invitation{}, err
	}
	if inv.Status != storage.InvitationPending {
		return storage.Invitation{}, &InvitationClosedError{Status: inv.Status}
	}
	if a.Limit != nil {
		perms, err := orgRoles(ctx, tx, tenant, orgID)
		if err != nil {
			return storage.Invitation{}, err
		}
		if err := checkTarget(perms, inv.Roles, a.Limit); err != nil {
			return storage.Invitation{}, err
		}
	}
	return inv, nil
}
