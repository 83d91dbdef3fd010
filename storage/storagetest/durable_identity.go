package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Identity tokens (DESIGN §3): organizations' authentication keys, found
// by kid with their organization, and users linked by (provider ID,
// subject).
var durableIdentityTests = []durableTest{
	{"Identity/AuthKeyCreateGet", durTestAuthKeyCreateGet},
	{"Identity/AuthKeyList", durTestAuthKeyList},
	{"Identity/AuthKeyDuplicate", durTestAuthKeyDuplicate},
	{"Identity/AuthKeyMissingOrg", durTestAuthKeyMissingOrg},
	{"Identity/AuthKeyRevoke", durTestAuthKeyRevoke},
	{"Identity/AuthKeyRevokeConcurrent", durTestAuthKeyRevokeConcurrent},
	{"Identity/AuthKeyTouch", durTestAuthKeyTouch},
	{"Identity/AuthKeyDeleteOrgCascades", durTestAuthKeyDeleteOrg},
	{"Identity/AuthKeyTenantIsolation", durTestAuthKeyTenantIsolation},
	{"Identity/ExternalCreateGet", durTestExternalCreateGet},
	{"Identity/ExternalDuplicate", durTestExternalDuplicate},
	{"Identity/ExternalMissingUser", durTestExternalMissingUser},
	{"Identity/ExternalDeleteUserCascades", durTestExternalDeleteUser},
	{"Identity/ExternalTenantIsolation", durTestExternalTenantIsolation},
}

// durAuthKey is an active, never used key of org with every other field
// set.
func durAuthKey(tenantID, orgID, kid string, created time.Time) storage.AuthKey {
	return storage.AuthKey{
		TenantID:       tenantID,
		OrganizationID: orgID,
		KID:            kid,
		Alg:            "ES256",
		PublicJWK:      []byte(`{"crv":"P-256","kid":"` + kid + `","kty":"EC","x":"eA","y":"eQ"}`),
		Status:         storage.AuthKeyActive,
		CreatedAt:      created,
	}
}

func durCreateAuthKey(t *testing.T, s storage.Store, tenantID, orgID, kid string, created time.Time) storage.AuthKey {
	t.Helper()
	k := durAuthKey(tenantID, orgID, kid, created)
	durMust(t, s.CreateAuthKey(t.Context(), k))
	return k
}

func durGetAuthKey(t *testing.T, s storage.Store, tenantID, kid string) (storage.AuthKey, storage.Organization) {
	t.Helper()
	k, o, err := s.GetAuthKey(t.Context(), tenantID, kid)
	durMust(t, err)
	return k, o
}

func durListAuthKeys(t *testing.T, s storage.Store, tenantID, orgID string) []storage.AuthKey {
	t.Helper()
	ks, err := s.ListAuthKeys(t.Context(), tenantID, orgID)
	durMust(t, err)
	return ks
}

func durLinkSubject(t *testing.T, s storage.Store, tenantID, providerID, subject, userID string) storage.ExternalIdentity {
	t.Helper()
	x := storage.ExternalIdentity{TenantID: tenantID, ProviderID: providerID, Subject: subject, UserID: userID, CreatedAt: durT0}
	durMust(t, s.CreateExternalIdentity(t.Context(), x))
	return x
}

// A key reads back whole with its whole organization, active or revoked;
// an unknown kid is ErrNotFound.
func durTestAuthKeyCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	o := durOrg(t, s, "acme", "o1", "one")
	k := durAuthKey("acme", "o1", "kid-1", durT0)
	k.Alg, k.PublicJWK = "EdDSA", []byte(`{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`)
	durMust(t, s.CreateAuthKey(t.Context(), k))

	gotK, gotO := durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "key", gotK, k)
	durSame(t, "key's organization", gotO, o)
	if !gotK.LastUsedAt.IsZero() || !gotK.RevokedAt.IsZero() {
		t.Errorf("new key: last used %v, revoked %v; want both zero", gotK.LastUsedAt, gotK.RevokedAt)
	}

	// A key created revoked and used (an import) reads back as such.
	r := durAuthKey("acme", "o1", "kid-2", durT0.Add(time.Second))
	r.Status, r.LastUsedAt, r.RevokedAt = storage.AuthKeyRevoked, durT0.Add(time.Minute), durT0.Add(time.Hour)
	durMust(t, s.CreateAuthKey(t.Context(), r))
	gotK, gotO = durGetAuthKey(t, s, "acme", "kid-2")
	durSame(t, "revoked key", gotK, r)
	durSame(t, "revoked key's organization", gotO, o)

	_, _, err := s.GetAuthKey(t.Context(), "acme", "nope")
	durWantErr(t, "GetAuthKey of an unknown kid", err, storage.ErrNotFound)
	_, _, err = s.GetAuthKey(t.Context(), "acme", "KID-1")
	durWantErr(t, "GetAuthKey is case-sensitive", err, storage.ErrNotFound)
}

// ListAuthKeys returns one organization's keys, oldest first, revoked ones
// included; none for an organization without keys.
func durTestAuthKeyList(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	if ks := durListAuthKeys(t, s, "acme", "o1"); len(ks) != 0 {
		t.Errorf("keys of an organization without any: %+v", ks)
	}
	// Created out of order, two at the same instant (kid breaks the tie).
	k3 := durCreateAuthKey(t, s, "acme", "o1", "c", durT0.Add(2*time.Hour))
	k1 := durCreateAuthKey(t, s, "acme", "o1", "z", durT0)
	k2b := durCreateAuthKey(t, s, "acme", "o1", "b", durT0.Add(time.Hour))
	k2a := durCreateAuthKey(t, s, "acme", "o1", "a", durT0.Add(time.Hour))
	other := durCreateAuthKey(t, s, "acme", "o2", "other", durT0.Add(-time.Hour))
	durMust(t, s.RevokeAuthKey(t.Context(), "acme", "o1", "b", durT0.Add(3*time.Hour)))
	k2b.Status, k2b.RevokedAt = storage.AuthKeyRevoked, durT0.Add(3*time.Hour)

	durSame(t, "o1's keys", durListAuthKeys(t, s, "acme", "o1"), []storage.AuthKey{k1, k2a, k2b, k3})
	durSame(t, "o2's keys", durListAuthKeys(t, s, "acme", "o2"), []storage.AuthKey{other})
	if ks := durListAuthKeys(t, s, "acme", "missing"); len(ks) != 0 {
		t.Errorf("keys of a missing organization: %+v", ks)
	}
}

// A kid is unique in the tenant: taken by the same or another
// organization, it is ErrAlreadyExists and the first key stays.
func durTestAuthKeyDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	k := durCreateAuthKey(t, s, "acme", "o1", "kid-1", durT0)

	again := durAuthKey("acme", "o1", "kid-1", durT0.Add(time.Hour))
	again.Alg = "RS256"
	durWantErr(t, "same kid, same organization", s.CreateAuthKey(t.Context(), again), storage.ErrAlreadyExists)
	durWantErr(t, "same kid, another organization",
		s.CreateAuthKey(t.Context(), durAuthKey("acme", "o2", "kid-1", durT0)), storage.ErrAlreadyExists)

	gotK, gotO := durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "the first key", gotK, k)
	if gotO.ID != "o1" {
		t.Errorf("kid-1 belongs to %q, want o1", gotO.ID)
	}
	if ks := durListAuthKeys(t, s, "acme", "o2"); len(ks) != 0 {
		t.Errorf("o2 got keys: %+v", ks)
	}
}

// A key of an organization that does not exist (in this tenant) is
// ErrNotFound and stores nothing.
func durTestAuthKeyMissingOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durOrg(t, s, "other", "o1", "one")
	durWantErr(t, "key of a missing organization",
		s.CreateAuthKey(t.Context(), durAuthKey("acme", "o1", "kid-1", durT0)), storage.ErrNotFound)
	_, _, err := s.GetAuthKey(t.Context(), "acme", "kid-1")
	durWantErr(t, "the refused key", err, storage.ErrNotFound)
	durWantErr(t, "key of a missing tenant",
		s.CreateAuthKey(t.Context(), durAuthKey("nope", "o1", "kid-1", durT0)), storage.ErrNotFound)
}

// RevokeAuthKey revokes once: the key reads back revoked at that time; a
// second revocation is ErrConflict and changes nothing; another
// organization's kid and an unknown kid are ErrNotFound.
func durTestAuthKeyRevoke(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	k := durCreateAuthKey(t, s, "acme", "o1", "kid-1", durT0)
	k2 := durCreateAuthKey(t, s, "acme", "o2", "kid-2", durT0)

	at := durT0.Add(time.Hour)
	durMust(t, s.RevokeAuthKey(t.Context(), "acme", "o1", "kid-1", at))
	k.Status, k.RevokedAt = storage.AuthKeyRevoked, at
	got, _ := durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "revoked key", got, k)

	durWantErr(t, "revoked twice", s.RevokeAuthKey(t.Context(), "acme", "o1", "kid-1", at.Add(time.Hour)), storage.ErrConflict)
	got, _ = durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "key after a second revocation", got, k)

	durWantErr(t, "another organization's kid", s.RevokeAuthKey(t.Context(), "acme", "o1", "kid-2", at), storage.ErrNotFound)
	durWantErr(t, "a revoked kid through another organization", s.RevokeAuthKey(t.Context(), "acme", "o2", "kid-1", at), storage.ErrNotFound)
	durWantErr(t, "unknown kid", s.RevokeAuthKey(t.Context(), "acme", "o1", "nope", at), storage.ErrNotFound)
	durWantErr(t, "missing organization", s.RevokeAuthKey(t.Context(), "acme", "missing", "kid-1", at), storage.ErrNotFound)
	got, _ = durGetAuthKey(t, s, "acme", "kid-2")
	durSame(t, "o2's key", got, k2)
}

// Of concurrent revocations of one key exactly one succeeds.
func durTestAuthKeyRevokeConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durCreateAuthKey(t, s, "acme", "o1", "kid-1", durT0)
	errs := durRace(func(i int) error {
		return s.RevokeAuthKey(t.Context(), "acme", "o1", "kid-1", durT0.Add(time.Duration(i+1)*time.Second))
	})
	durOneWinner(t, errs, storage.ErrConflict)
	if got, _ := durGetAuthKey(t, s, "acme", "kid-1"); got.Status != storage.AuthKeyRevoked || got.RevokedAt.IsZero() {
		t.Errorf("after the race: %+v; want revoked", got)
	}
}

// TouchAuthKey only moves LastUsedAt forward, whatever the key's status,
// and is no error for an earlier time or an unknown kid.
func durTestAuthKeyTouch(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	k := durCreateAuthKey(t, s, "acme", "o1", "kid-1", durT0)
	other := durCreateAuthKey(t, s, "acme", "o1", "kid-2", durT0)

	t1 := durT0.Add(time.Hour)
	durMust(t, s.TouchAuthKey(t.Context(), "acme", "kid-1", t1))
	k.LastUsedAt = t1
	got, _ := durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "touched key", got, k)

	durMust(t, s.TouchAuthKey(t.Context(), "acme", "kid-1", durT0.Add(time.Minute)))
	got, _ = durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "key touched at an earlier time", got, k)
	durMust(t, s.TouchAuthKey(t.Context(), "acme", "kid-1", t1))
	got, _ = durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "key touched at the same time", got, k)

	t2 := t1.Add(time.Microsecond)
	durMust(t, s.TouchAuthKey(t.Context(), "acme", "kid-1", t2))
	k.LastUsedAt = t2
	got, _ = durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "key touched a microsecond later", got, k)

	durMust(t, s.TouchAuthKey(t.Context(), "acme", "nope", t2))
	got, _ = durGetAuthKey(t, s, "acme", "kid-2")
	durSame(t, "the untouched key", got, other)

	// A revoked key's last use stays recorded and can still move.
	durMust(t, s.RevokeAuthKey(t.Context(), "acme", "o1", "kid-1", t2))
	t3 := t2.Add(time.Hour)
	durMust(t, s.TouchAuthKey(t.Context(), "acme", "kid-1", t3))
	k.Status, k.RevokedAt, k.LastUsedAt = storage.AuthKeyRevoked, t2, t3
	got, _ = durGetAuthKey(t, s, "acme", "kid-1")
	durSame(t, "revoked, touched key", got, k)
}

// DeleteOrganization takes its keys with it, and only its keys; the kid is
// free again afterwards.
func durTestAuthKeyDeleteOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durCreateAuthKey(t, s, "acme", "o1", "kid-1", durT0)
	durCreateAuthKey(t, s, "acme", "o1", "kid-2", durT0)
	k3 := durCreateAuthKey(t, s, "acme", "o2", "kid-3", durT0)

	durMust(t, s.DeleteOrganization(t.Context(), "acme", "o1"))
	for _, kid := range []string{"kid-1", "kid-2"} {
		_, _, err := s.GetAuthKey(t.Context(), "acme", kid)
		durWantErr(t, "a deleted organization's key "+kid, err, storage.ErrNotFound)
	}
	if ks := durListAuthKeys(t, s, "acme", "o1"); len(ks) != 0 {
		t.Errorf("keys of a deleted organization: %+v", ks)
	}
	got, _ := durGetAuthKey(t, s, "acme", "kid-3")
	durSame(t, "the other organization's key", got, k3)

	durCreateAuthKey(t, s, "acme", "o2", "kid-1", durT0)
	if _, o := durGetAuthKey(t, s, "acme", "kid-1"); o.ID != "o2" {
		t.Errorf("reused kid-1 belongs to %q, want o2", o.ID)
	}
}

// The same kid and organization IDs in two tenants are different keys.
func durTestAuthKeyTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	oa := durOrg(t, s, "a", "o1", "one")
	ob := durOrg(t, s, "b", "o1", "one")
	ob.Name = "B's one"
	durMust(t, s.UpdateOrganization(t.Context(), ob))
	ka := durCreateAuthKey(t, s, "a", "o1", "kid-1", durT0)

	_, _, err := s.GetAuthKey(t.Context(), "b", "kid-1")
	durWantErr(t, "a's key read in b", err, storage.ErrNotFound)
	durWantErr(t, "a's key revoked in b", s.RevokeAuthKey(t.Context(), "b", "o1", "kid-1", durT0), storage.ErrNotFound)
	if ks := durListAuthKeys(t, s, "b", "o1"); len(ks) != 0 {
		t.Errorf("b's o1 lists a's keys: %+v", ks)
	}
	durMust(t, s.TouchAuthKey(t.Context(), "b", "kid-1", durT0.Add(time.Hour)))

	// b takes the same kid for its own key.
	kb := durAuthKey("b", "o1", "kid-1", durT0.Add(time.Second))
	kb.Alg = "RS256"
	durMust(t, s.CreateAuthKey(t.Context(), kb))
	durMust(t, s.RevokeAuthKey(t.Context(), "b", "o1", "kid-1", durT0.Add(time.Minute)))
	kb.Status, kb.RevokedAt = storage.AuthKeyRevoked, durT0.Add(time.Minute)

	gotK, gotO := durGetAuthKey(t, s, "a", "kid-1")
	durSame(t, "a's key", gotK, ka)
	durSame(t, "a's key's organization", gotO, oa)
	gotK, gotO = durGetAuthKey(t, s, "b", "kid-1")
	durSame(t, "b's key", gotK, kb)
	durSame(t, "b's key's organization", gotO, ob)

	durMust(t, s.DeleteOrganization(t.Context(), "b", "o1"))
	gotK, _ = durGetAuthKey(t, s, "a", "kid-1")
	durSame(t, "a's key after b's organization went", gotK, ka)
}

// A link reads back whole; an unknown (provider, subject) is ErrNotFound,
// and a subject is only ever looked up under its own provider.
func durTestExternalCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	x := durLinkSubject(t, s, "acme", "prov-1", "sub-1", "u1")
	// The same subject under another provider is another person.
	y := durLinkSubject(t, s, "acme", "prov-2", "sub-1", "u2")
	// One user may be linked by several providers and subjects.
	z := durLinkSubject(t, s, "acme", "prov-2", "sub-2", "u1")

	for _, want := range []storage.ExternalIdentity{x, y, z} {
		got, err := s.GetExternalIdentity(t.Context(), "acme", want.ProviderID, want.Subject)
		durMust(t, err)
		durSame(t, "link of "+want.ProviderID+"/"+want.Subject, got, want)
	}
	for _, c := range [][2]string{{"prov-1", "sub-2"}, {"prov-3", "sub-1"}, {"prov-1", "SUB-1"}, {"", "sub-1"}} {
		_, err := s.GetExternalIdentity(t.Context(), "acme", c[0], c[1])
		durWantErr(t, "link of "+c[0]+"/"+c[1], err, storage.ErrNotFound)
	}
}

// A linked subject cannot be linked again, to the same or another user:
// the first link stays.
func durTestExternalDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	x := durLinkSubject(t, s, "acme", "prov-1", "sub-1", "u1")
	for _, u := range []string{"u1", "u2"} {
		err := s.CreateExternalIdentity(t.Context(), storage.ExternalIdentity{
			TenantID: "acme", ProviderID: "prov-1", Subject: "sub-1", UserID: u, CreatedAt: durT0.Add(time.Hour)})
		durWantErr(t, "subject linked again to "+u, err, storage.ErrAlreadyExists)
	}
	got, err := s.GetExternalIdentity(t.Context(), "acme", "prov-1", "sub-1")
	durMust(t, err)
	durSame(t, "the first link", got, x)

	// Two first sign-ins racing: exactly one links.
	errs := durRace(func(i int) error {
		return s.CreateExternalIdentity(t.Context(), storage.ExternalIdentity{
			TenantID: "acme", ProviderID: "prov-1", Subject: "racer", UserID: []string{"u1", "u2"}[i%2], CreatedAt: durT0})
	})
	durOneWinner(t, errs, storage.ErrAlreadyExists)
}

// A link to a user that does not exist (in this tenant) is ErrNotFound
// and stores nothing.
func durTestExternalMissingUser(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durUser(t, s, "other", "u1", "u1@example.test")
	err := s.CreateExternalIdentity(t.Context(), storage.ExternalIdentity{
		TenantID: "acme", ProviderID: "prov-1", Subject: "sub-1", UserID: "u1", CreatedAt: durT0})
	durWantErr(t, "link to a missing user", err, storage.ErrNotFound)
	_, err = s.GetExternalIdentity(t.Context(), "acme", "prov-1", "sub-1")
	durWantErr(t, "the refused link", err, storage.ErrNotFound)
}

// DeleteUser takes the user's links with it, and only theirs; the subject
// can then be linked to a new user.
func durTestExternalDeleteUser(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	durLinkSubject(t, s, "acme", "prov-1", "sub-1", "u1")
	durLinkSubject(t, s, "acme", "prov-2", "sub-1", "u1")
	y := durLinkSubject(t, s, "acme", "prov-1", "sub-2", "u2")

	durMust(t, s.DeleteUser(t.Context(), "acme", "u1"))
	for _, p := range []string{"prov-1", "prov-2"} {
		_, err := s.GetExternalIdentity(t.Context(), "acme", p, "sub-1")
		durWantErr(t, "a deleted user's link under "+p, err, storage.ErrNotFound)
	}
	got, err := s.GetExternalIdentity(t.Context(), "acme", "prov-1", "sub-2")
	durMust(t, err)
	durSame(t, "the other user's link", got, y)

	durUser(t, s, "acme", "u3", "u3@example.test")
	x := durLinkSubject(t, s, "acme", "prov-1", "sub-1", "u3")
	got, err = s.GetExternalIdentity(t.Context(), "acme", "prov-1", "sub-1")
	durMust(t, err)
	durSame(t, "the subject linked anew", got, x)
}

// The same provider, subject and user IDs in two tenants are different
// links.
func durTestExternalTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durUser(t, s, "a", "u1", "u1@example.test")
	durUser(t, s, "a", "u2", "u2@example.test")
	durUser(t, s, "b", "u1", "u1@example.test")
	durUser(t, s, "b", "u2", "u2@example.test")
	xa := durLinkSubject(t, s, "a", "prov-1", "sub-1", "u1")

	_, err := s.GetExternalIdentity(t.Context(), "b", "prov-1", "sub-1")
	durWantErr(t, "a's link read in b", err, storage.ErrNotFound)

	// b links the same subject to its other user.
	xb := durLinkSubject(t, s, "b", "prov-1", "sub-1", "u2")
	got, err := s.GetExternalIdentity(t.Context(), "a", "prov-1", "sub-1")
	durMust(t, err)
	durSame(t, "a's link", got, xa)
	got, err = s.GetExternalIdentity(t.Context(), "b", "prov-1", "sub-1")
	durMust(t, err)
	durSame(t, "b's link", got, xb)

	durMust(t, s.DeleteUser(t.Context(), "b", "u2"))
	got, err = s.GetExternalIdentity(t.Context(), "a", "prov-1", "sub-1")
	durMust(t, err)
	durSame(t, "a's link after b's user went", got, xa)
	_, err = s.GetExternalIdentity(t.Context(), "b", "prov-1", "sub-1")
	durWantErr(t, "b's link after its user went", err, storage.ErrNotFound)
}
