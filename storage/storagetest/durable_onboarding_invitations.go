package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Invitations (DESIGN §3): found by ID within their organization or by
// their current link's hash with their organization; renewed (a new link,
// the old one dead), revoked and accepted by compare-and-set; listed
// oldest first; gone with their organization.
var durableInvitationTests = slices.Concat([]durableTest{
	{"Invitation/CreateGet", durTestInvitationCreateGet},
	{"Invitation/Duplicate", durTestInvitationDuplicate},
	{"Invitation/MissingOrganization", durTestInvitationMissingOrg},
	{"Invitation/Renew", durTestInvitationRenew},
	{"Invitation/Revoke", durTestInvitationRevoke},
	{"Invitation/Accept", durTestInvitationAccept},
	{"Invitation/AcceptRefused", durTestInvitationAcceptRefused},
	{"Invitation/AcceptConcurrent", durTestInvitationAcceptConcurrent},
	{"Invitation/RevokeConcurrent", durTestInvitationRevokeConcurrent},
	{"Invitation/DeleteOrgCascades", durTestInvitationDeleteOrg},
	{"Invitation/TenantIsolation", durTestInvitationTenantIsolation},
}, durPagedList[storage.Invitation]{
	name: "Invitations",
	setup: func(t *testing.T, s storage.Store, tenant string) {
		durMust(t, s.CreateOrganization(t.Context(), storage.Organization{TenantID: tenant, ID: "o1", Name: "O", Slug: "o1", CreatedAt: durT0}))
		// An invitation into another organization is not listed.
		durMust(t, s.CreateOrganization(t.Context(), storage.Organization{TenantID: tenant, ID: "o2", Name: "O", Slug: "o2", CreatedAt: durT0}))
		durMust(t, s.CreateInvitation(t.Context(), durInvitation(tenant, "o2", "elsewhere", durT0)))
	},
	add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
		durMust(t, s.CreateInvitation(t.Context(), durInvitation(tenant, "o1", id, at)))
	},
	list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.Invitation, string, error) {
		return s.ListInvitations(t.Context(), tenant, "o1", p)
	},
	key: func(inv storage.Invitation) string { return inv.ID },
}.tests())

// durInvitation is a pending invitation into org created at created, for
// a week, with every field such an invitation has set; its link's hash is
// durHash("link-" + id).
func durInvitation(tenantID, orgID, id string, created time.Time) storage.Invitation {
	return storage.Invitation{
		TenantID:       tenantID,
		ID:             id,
		OrganizationID: orgID,
		Email:          "Invitee." + id + "@Example.test",
		Roles:          []string{"admin", "member"},
		TokenHash:      durHash("link-" + id),
		Status:         storage.InvitationPending,
		InviterID:      "inviter-1",
		TTL:            7 * 24 * time.Hour,
		ExpiresAt:      created.Add(7 * 24 * time.Hour),
		CreatedAt:      created,
		UpdatedAt:      created,
	}
}

func durInvite(t *testing.T, s storage.Store, tenantID, orgID, id string) storage.Invitation {
	t.Helper()
	inv := durInvitation(tenantID, orgID, id, durT0)
	durMust(t, s.CreateInvitation(t.Context(), inv))
	return inv
}

func durGetInvitation(t *testing.T, s storage.Store, tenantID, orgID, id string) storage.Invitation {
	t.Helper()
	inv, err := s.GetInvitation(t.Context(), tenantID, orgID, id)
	durMust(t, err)
	return inv
}

func durInvitationByToken(t *testing.T, s storage.Store, tenantID string, hash []byte) (storage.Invitation, storage.Organization) {
	t.Helper()
	inv, o, err := s.GetInvitationByToken(t.Context(), tenantID, hash)
	durMust(t, err)
	return inv, o
}

func durNoInvitationToken(t *testing.T, s storage.Store, tenantID string, hash []byte) {
	t.Helper()
	_, _, err := s.GetInvitationByToken(t.Context(), tenantID, hash)
	durWantErr(t, "GetInvitationByToken", err, storage.ErrNotFound)
}

// An invitation reads back whole by ID and by link hash, the latter with
// its whole organization; it is found only in its own organization.
func durTestInvitationCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	o := durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	inv := durInvitation("acme", "o1", "i1", durT0)
	inv.Roles = []string{"member", "admin", "member"}
	inv.TTL = 36*time.Hour + 123*time.Microsecond
	durMust(t, s.CreateInvitation(t.Context(), inv))
	inv.Roles = []string{"admin", "member"} // sorted, without duplicates

	durSame(t, "invitation", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
	gotInv, gotOrg := durInvitationByToken(t, s, "acme", inv.TokenHash)
	durSame(t, "invitation by token", gotInv, inv)
	durSame(t, "invitation's organization", gotOrg, o)

	// One without roles, created accepted (an import), reads back as such.
	acc := durInvitation("acme", "o1", "i2", durT0.Add(time.Second))
	acc.Roles, acc.Status, acc.AcceptedBy, acc.UpdatedAt = nil, storage.InvitationAccepted, "u9", durT0.Add(time.Hour)
	durMust(t, s.CreateInvitation(t.Context(), acc))
	durSame(t, "accepted invitation", durGetInvitation(t, s, "acme", "o1", "i2"), acc)

	_, err := s.GetInvitation(t.Context(), "acme", "o2", "i1")
	durWantErr(t, "o1's invitation read through o2", err, storage.ErrNotFound)
	_, err = s.GetInvitation(t.Context(), "acme", "o1", "nope")
	durWantErr(t, "unknown invitation", err, storage.ErrNotFound)
	durNoInvitationToken(t, s, "acme", durHash("nope"))
}

// An ID or link hash taken in the tenant, by any organization, is
// ErrAlreadyExists and the first invitation stays.
func durTestInvitationDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	inv := durInvite(t, s, "acme", "o1", "i1")

	sameID := durInvitation("acme", "o2", "i1", durT0)
	sameID.TokenHash = durHash("another")
	durWantErr(t, "same ID in another organization", s.CreateInvitation(t.Context(), sameID), storage.ErrAlreadyExists)
	sameHash := durInvitation("acme", "o2", "i2", durT0)
	sameHash.TokenHash = inv.TokenHash
	durWantErr(t, "same link hash", s.CreateInvitation(t.Context(), sameHash), storage.ErrAlreadyExists)

	durSame(t, "the first invitation", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
	_, err := s.GetInvitation(t.Context(), "acme", "o2", "i2")
	durWantErr(t, "the refused invitation", err, storage.ErrNotFound)
	durNoInvitationToken(t, s, "acme", durHash("another"))
}

// An invitation into an organization that does not exist (in this
// tenant) is ErrNotFound.
func durTestInvitationMissingOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durOrg(t, s, "other", "o1", "one")
	durWantErr(t, "invitation into a missing organization",
		s.CreateInvitation(t.Context(), durInvitation("acme", "o1", "i1", durT0)), storage.ErrNotFound)
	durNoInvitationToken(t, s, "acme", durHash("link-i1"))
	invs, next, err := s.ListInvitations(t.Context(), "acme", "o1", storage.Page{})
	durMust(t, err)
	if len(invs) != 0 || next != "" {
		t.Errorf("invitations of a missing organization: %+v, %q", invs, next)
	}
}

// A renewal replaces the link and the expiry, expired or not: the old
// link finds nothing, the new one the invitation. An accepted or revoked
// invitation is ErrConflict; an unknown one, or another organization's,
// ErrNotFound.
func durTestInvitationRenew(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	inv := durInvite(t, s, "acme", "o1", "i1")
	durInvite(t, s, "acme", "o1", "i2")

	// Long expired, and renewed.
	at := inv.ExpiresAt.Add(30 * 24 * time.Hour)
	durMust(t, s.RenewInvitation(t.Context(), "acme", "o1", "i1", durHash("new-link"), at.Add(inv.TTL), at))
	inv.TokenHash, inv.ExpiresAt, inv.UpdatedAt = durHash("new-link"), at.Add(inv.TTL), at
	durSame(t, "renewed invitation", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
	durNoInvitationToken(t, s, "acme", durHash("link-i1"))
	gotInv, _ := durInvitationByToken(t, s, "acme", durHash("new-link"))
	durSame(t, "renewed invitation by its new link", gotInv, inv)

	durWantErr(t, "renewal through another organization",
		s.RenewInvitation(t.Context(), "acme", "o2", "i1", durHash("x"), at, at), storage.ErrNotFound)
	durWantErr(t, "renewal of an unknown invitation",
		s.RenewInvitation(t.Context(), "acme", "o1", "nope", durHash("x"), at, at), storage.ErrNotFound)
	durSame(t, "invitation after refused renewals", durGetInvitation(t, s, "acme", "o1", "i1"), inv)

	durMust(t, s.RevokeInvitation(t.Context(), "acme", "o1", "i2", durT0.Add(time.Minute)))
	durWantErr(t, "renewal of a revoked invitation",
		s.RenewInvitation(t.Context(), "acme", "o1", "i2", durHash("x"), at, at), storage.ErrConflict)
	durMust(t, s.AcceptInvitation(t.Context(), "acme", "i1", durHash("new-link"), "u1", at.Add(time.Minute)))
	durWantErr(t, "renewal of an accepted invitation",
		s.RenewInvitation(t.Context(), "acme", "o1", "i1", durHash("x"), at.Add(time.Hour), at), storage.ErrConflict)
	durNoInvitationToken(t, s, "acme", durHash("x"))
}

// Revocation ends a pending invitation, expired or not, once: a second
// revocation is ErrConflict and changes nothing. The revoked invitation
// is still found by its link, and can no longer be accepted.
func durTestInvitationRevoke(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	inv := durInvite(t, s, "acme", "o1", "i1")
	expired := durInvite(t, s, "acme", "o1", "i2")

	at := durT0.Add(time.Hour)
	durMust(t, s.RevokeInvitation(t.Context(), "acme", "o1", "i1", at))
	inv.Status, inv.UpdatedAt = storage.InvitationRevoked, at
	durSame(t, "revoked invitation", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
	gotInv, _ := durInvitationByToken(t, s, "acme", inv.TokenHash)
	durSame(t, "revoked invitation by its link", gotInv, inv)

	durWantErr(t, "second revocation", s.RevokeInvitation(t.Context(), "acme", "o1", "i1", at.Add(time.Hour)), storage.ErrConflict)
	durWantErr(t, "acceptance of a revoked invitation",
		s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, "u1", at), storage.ErrConflict)
	durSame(t, "invitation after refused changes", durGetInvitation(t, s, "acme", "o1", "i1"), inv)

	late := expired.ExpiresAt.Add(time.Hour)
	durMust(t, s.RevokeInvitation(t.Context(), "acme", "o1", "i2", late))
	expired.Status, expired.UpdatedAt = storage.InvitationRevoked, late
	durSame(t, "revoked expired invitation", durGetInvitation(t, s, "acme", "o1", "i2"), expired)

	durWantErr(t, "revocation through another organization", s.RevokeInvitation(t.Context(), "acme", "o2", "i1", at), storage.ErrNotFound)
	durWantErr(t, "revocation of an unknown invitation", s.RevokeInvitation(t.Context(), "acme", "o1", "nope", at), storage.ErrNotFound)
}

// Acceptance with the current link before expiry marks the invitation
// accepted by the user; then nothing more can happen to it.
func durTestInvitationAccept(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	inv := durInvite(t, s, "acme", "o1", "i1")
	at := inv.ExpiresAt.Add(-time.Microsecond)
	durMust(t, s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, "u1", at))
	inv.Status, inv.AcceptedBy, inv.UpdatedAt = storage.InvitationAccepted, "u1", at
	durSame(t, "accepted invitation", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
	gotInv, _ := durInvitationByToken(t, s, "acme", inv.TokenHash)
	durSame(t, "accepted invitation by its link", gotInv, inv)

	durWantErr(t, "second acceptance", s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, "u2", at), storage.ErrConflict)
	durWantErr(t, "revocation of an accepted invitation", s.RevokeInvitation(t.Context(), "acme", "o1", "i1", at), storage.ErrConflict)
	durSame(t, "invitation after refused changes", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
}

// Acceptance is refused (ErrConflict, nothing written) with a link a
// renewal replaced, and at or after the expiry; an unknown invitation is
// ErrNotFound.
func durTestInvitationAcceptRefused(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	inv := durInvite(t, s, "acme", "o1", "i1")
	renewedAt := durT0.Add(time.Hour)
	durMust(t, s.RenewInvitation(t.Context(), "acme", "o1", "i1", durHash("new-link"), renewedAt.Add(inv.TTL), renewedAt))
	inv.TokenHash, inv.ExpiresAt, inv.UpdatedAt = durHash("new-link"), renewedAt.Add(inv.TTL), renewedAt

	durWantErr(t, "acceptance with the replaced link",
		s.AcceptInvitation(t.Context(), "acme", "i1", durHash("link-i1"), "u1", renewedAt), storage.ErrConflict)
	durWantErr(t, "acceptance at the expiry",
		s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, "u1", inv.ExpiresAt), storage.ErrConflict)
	durWantErr(t, "acceptance after the expiry",
		s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, "u1", inv.ExpiresAt.Add(time.Hour)), storage.ErrConflict)
	durWantErr(t, "acceptance of an unknown invitation",
		s.AcceptInvitation(t.Context(), "acme", "nope", inv.TokenHash, "u1", renewedAt), storage.ErrNotFound)
	durSame(t, "invitation after refused acceptances", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
	if inv.StatusAt(inv.ExpiresAt) != storage.InvitationExpired {
		t.Errorf("StatusAt(expiry) = %s, want expired", inv.StatusAt(inv.ExpiresAt))
	}
}

// Of concurrent acceptances exactly one succeeds, and the invitation
// names its user.
func durTestInvitationAcceptConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	inv := durInvite(t, s, "acme", "o1", "i1")
	users := make([]string, durRacers)
	for i := range users {
		users[i] = "u" + string(rune('a'+i))
	}
	errs := durRace(func(i int) error {
		return s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, users[i], durT0.Add(time.Duration(i+1)*time.Second))
	})
	durOneWinner(t, errs, storage.ErrConflict)
	got := durGetInvitation(t, s, "acme", "o1", "i1")
	if i := slices.IndexFunc(errs, func(err error) bool { return err == nil }); i >= 0 && got.AcceptedBy != users[i] {
		t.Errorf("accepted by %q, but %q won", got.AcceptedBy, users[i])
	}
}

// Of concurrent revocations and acceptances exactly one succeeds.
func durTestInvitationRevokeConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	inv := durInvite(t, s, "acme", "o1", "i1")
	errs := durRace(func(i int) error {
		at := durT0.Add(time.Duration(i+1) * time.Second)
		if i%2 == 0 {
			return s.RevokeInvitation(t.Context(), "acme", "o1", "i1", at)
		}
		return s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, "u1", at)
	})
	durOneWinner(t, errs, storage.ErrConflict)
}

// An organization's invitations go with it: their links find nothing,
// and their IDs and hashes are free again.
func durTestInvitationDeleteOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	inv := durInvite(t, s, "acme", "o1", "i1")
	kept := durInvite(t, s, "acme", "o2", "i2")
	durMust(t, s.DeleteOrganization(t.Context(), "acme", "o1"))

	durNoInvitationToken(t, s, "acme", inv.TokenHash)
	_, err := s.GetInvitation(t.Context(), "acme", "o1", "i1")
	durWantErr(t, "deleted organization's invitation", err, storage.ErrNotFound)
	durWantErr(t, "acceptance of a deleted organization's invitation",
		s.AcceptInvitation(t.Context(), "acme", "i1", inv.TokenHash, "u1", durT0), storage.ErrNotFound)
	durSame(t, "o2's invitation", durGetInvitation(t, s, "acme", "o2", "i2"), kept)

	again := durInvitation("acme", "o2", "i1", durT0)
	durMust(t, s.CreateInvitation(t.Context(), again))
	gotInv, gotOrg := durInvitationByToken(t, s, "acme", inv.TokenHash)
	if gotInv.OrganizationID != "o2" || gotOrg.ID != "o2" {
		t.Errorf("the freed link finds %+v in %s, want o2's", gotInv, gotOrg.ID)
	}
}

// Another tenant's invitation is neither found, by ID or link, nor
// changed; the same ID and link hash are free in every tenant.
func durTestInvitationTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	oa := durOrg(t, s, "a", "o1", "one")
	durOrg(t, s, "b", "o1", "one")
	ia := durInvite(t, s, "a", "o1", "i1")
	durInvite(t, s, "b", "o1", "i1")
	only := durInvite(t, s, "a", "o1", "only-a")

	_, err := s.GetInvitation(t.Context(), "b", "o1", "only-a")
	durWantErr(t, "a's invitation read in b", err, storage.ErrNotFound)
	durNoInvitationToken(t, s, "b", only.TokenHash)
	durWantErr(t, "a's invitation renewed in b",
		s.RenewInvitation(t.Context(), "b", "o1", "only-a", durHash("x"), durT0.Add(time.Hour), durT0), storage.ErrNotFound)
	durWantErr(t, "a's invitation revoked in b", s.RevokeInvitation(t.Context(), "b", "o1", "only-a", durT0), storage.ErrNotFound)
	durWantErr(t, "a's invitation accepted in b",
		s.AcceptInvitation(t.Context(), "b", "only-a", only.TokenHash, "u1", durT0), storage.ErrNotFound)

	durMust(t, s.AcceptInvitation(t.Context(), "b", "i1", durHash("link-i1"), "u1", durT0))
	durMust(t, s.RevokeInvitation(t.Context(), "a", "o1", "only-a", durT0))
	durSame(t, "a's i1 after b's was accepted", durGetInvitation(t, s, "a", "o1", "i1"), ia)
	gotInv, gotOrg := durInvitationByToken(t, s, "a", ia.TokenHash)
	durSame(t, "a's i1 by its link", gotInv, ia)
	durSame(t, "a's i1's organization", gotOrg, oa)
	invs, _, err := s.ListInvitations(t.Context(), "b", "o1", storage.Page{})
	durMust(t, err)
	if len(invs) != 1 || invs[0].ID != "i1" || invs[0].TenantID != "b" {
		t.Errorf("b's invitations: %+v", invs)
	}
}
