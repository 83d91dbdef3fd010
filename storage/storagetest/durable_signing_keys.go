package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableSigningKeyTests = []durableTest{
	{"SigningKey/CreateList", durTestKeyCreateList},
	{"SigningKey/DuplicateID", durTestKeyDuplicateID},
	{"SigningKey/OneActiveAndOneNextPerAlgorithm", durTestKeyOnePerState},
	{"SigningKey/ConcurrentCreateActive", durTestKeyConcurrentCreate},
	{"SigningKey/UpdateState", durTestKeyUpdateState},
	{"SigningKey/UpdateStateConflict", durTestKeyUpdateConflict},
	{"SigningKey/ConcurrentUpdateState", durTestKeyConcurrentUpdate},
	{"SigningKey/DeleteExpired", durTestKeyDeleteExpired},
	{"SigningKey/TenantIsolation", durTestKeyTenantIsolation},
}

func durListKeys(t *testing.T, s storage.Store, tenantID string) []storage.SigningKey {
	t.Helper()
	ks, err := s.ListSigningKeys(t.Context(), tenantID)
	durMust(t, err)
	return ks
}

func durTestKeyCreateList(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	// Created out of order: the list is oldest first whatever the state.
	next := durKey("acme", "k3", "RS256", storage.KeyNext, durT0.Add(2*time.Hour))
	active := durKey("acme", "k2", "RS256", storage.KeyActive, durT0.Add(time.Hour))
	retired := durKey("acme", "k1", "RS256", storage.KeyRetired, durT0)
	retired.ExpiresAt = durT0.Add(48 * time.Hour)
	for _, k := range []storage.SigningKey{next, active, retired} {
		durMust(t, s.CreateSigningKey(t.Context(), k))
	}
	durSame(t, "keys", durListKeys(t, s, "acme"), []storage.SigningKey{retired, active, next})
}

func durTestKeyDuplicateID(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	k := durKey("acme", "k1", "RS256", storage.KeyActive, durT0)
	durMust(t, s.CreateSigningKey(t.Context(), k))
	dup := durKey("acme", "k1", "ES256", storage.KeyNext, durT0.Add(time.Hour))
	durWantErr(t, "second key k1", s.CreateSigningKey(t.Context(), dup), storage.ErrAlreadyExists)
	durSame(t, "keys", durListKeys(t, s, "acme"), []storage.SigningKey{k})
}

func durTestKeyOnePerState(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	keys := []storage.SigningKey{
		durKey("acme", "rs-active", "RS256", storage.KeyActive, durT0),
		durKey("acme", "rs-next", "RS256", storage.KeyNext, durT0.Add(time.Second)),
		durKey("acme", "es-active", "ES256", storage.KeyActive, durT0.Add(2*time.Second)), // another algorithm
		durKey("acme", "rs-old1", "RS256", storage.KeyRetired, durT0.Add(3*time.Second)),  // retired keys may pile up
		durKey("acme", "rs-old2", "RS256", storage.KeyRetired, durT0.Add(4*time.Second)),
	}
	for _, k := range keys {
		durMust(t, s.CreateSigningKey(t.Context(), k))
	}
	err := s.CreateSigningKey(t.Context(), durKey("acme", "rs-active2", "RS256", storage.KeyActive, durT0.Add(time.Hour)))
	durWantErr(t, "second active RS256 key", err, storage.ErrAlreadyExists)
	err = s.CreateSigningKey(t.Context(), durKey("acme", "rs-next2", "RS256", storage.KeyNext, durT0.Add(time.Hour)))
	durWantErr(t, "second next RS256 key", err, storage.ErrAlreadyExists)
	durSame(t, "keys", durListKeys(t, s, "acme"), keys)
}

// Two replicas that both find no active key and create one: the store lets
// exactly one through.
func durTestKeyConcurrentCreate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	errs := durRace(func(i int) error {
		return s.CreateSigningKey(t.Context(), durKey("acme", "k"+string(rune('a'+i)), "ES256", storage.KeyActive, durT0))
	})
	durOneWinner(t, errs, storage.ErrAlreadyExists)
	if ks := durListKeys(t, s, "acme"); len(ks) != 1 {
		t.Errorf("%d keys stored, want 1", len(ks))
	}
}

func durTestKeyUpdateState(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	active := durKey("acme", "k1", "RS256", storage.KeyActive, durT0)
	next := durKey("acme", "k2", "RS256", storage.KeyNext, durT0.Add(time.Second))
	durMust(t, s.CreateSigningKey(t.Context(), active))
	durMust(t, s.CreateSigningKey(t.Context(), next))

	// A rotation: retire the active key, then promote the next one.
	until := durT0.Add(25 * time.Hour)
	durMust(t, s.UpdateSigningKeyState(t.Context(), "acme", "k1", storage.KeyActive, storage.KeyRetired, until))
	durMust(t, s.UpdateSigningKeyState(t.Context(), "acme", "k2", storage.KeyNext, storage.KeyActive, time.Time{}))
	active.State, active.ExpiresAt = storage.KeyRetired, until
	next.State = storage.KeyActive
	durSame(t, "keys after rotation", durListKeys(t, s, "acme"), []storage.SigningKey{active, next})
}

func durTestKeyUpdateConflict(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	k1 := durKey("acme", "k1", "RS256", storage.KeyActive, durT0)
	k2 := durKey("acme", "k2", "RS256", storage.KeyNext, durT0.Add(time.Second))
	durMust(t, s.CreateSigningKey(t.Context(), k1))
	durMust(t, s.CreateSigningKey(t.Context(), k2))

	err := s.UpdateSigningKeyState(t.Context(), "acme", "k1", storage.KeyNext, storage.KeyRetired, durT0)
	durWantErr(t, "update from the wrong state", err, storage.ErrConflict)
	err = s.UpdateSigningKeyState(t.Context(), "acme", "ghost", storage.KeyActive, storage.KeyRetired, durT0)
	durWantErr(t, "update of a missing key", err, storage.ErrNotFound)
	// Promoting next while another key is still active would make two
	// active keys: the expected world no longer holds, so it is a conflict.
	err = s.UpdateSigningKeyState(t.Context(), "acme", "k2", storage.KeyNext, storage.KeyActive, time.Time{})
	durWantErr(t, "promotion beside an active key", err, storage.ErrConflict)
	durSame(t, "keys after refused updates", durListKeys(t, s, "acme"), []storage.SigningKey{k1, k2})
}

func durTestKeyConcurrentUpdate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durMust(t, s.CreateSigningKey(t.Context(), durKey("acme", "k1", "EdDSA", storage.KeyActive, durT0)))
	errs := durRace(func(i int) error {
		return s.UpdateSigningKeyState(t.Context(), "acme", "k1", storage.KeyActive, storage.KeyRetired, durT0.Add(time.Duration(i)*time.Hour))
	})
	durOneWinner(t, errs, storage.ErrConflict)
	ks := durListKeys(t, s, "acme")
	if len(ks) != 1 || ks[0].State != storage.KeyRetired {
		t.Errorf("keys = %+v, want k1 retired", ks)
	}
}

func durTestKeyDeleteExpired(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	old := durKey("acme", "old", "RS256", storage.KeyRetired, durT0)
	old.ExpiresAt = durT0.Add(time.Hour)
	recent := durKey("acme", "recent", "RS256", storage.KeyRetired, durT0.Add(time.Second))
	recent.ExpiresAt = durT0.Add(3 * time.Hour)
	active := durKey("acme", "active", "RS256", storage.KeyActive, durT0.Add(2*time.Second))
	next := durKey("acme", "next", "RS256", storage.KeyNext, durT0.Add(3*time.Second))
	theirs := durKey("other", "old", "RS256", storage.KeyRetired, durT0)
	theirs.ExpiresAt = durT0.Add(time.Hour)
	for _, k := range []storage.SigningKey{old, recent, active, next, theirs} {
		durMust(t, s.CreateSigningKey(t.Context(), k))
	}

	n, err := s.DeleteSigningKeysExpiredBefore(t.Context(), "acme", durT0.Add(2*time.Hour))
	durMust(t, err)
	if n != 1 {
		t.Errorf("deleted %d keys, want 1", n)
	}
	// Active and next keys (zero ExpiresAt) never go; nor do other tenants' keys.
	durSame(t, "acme's keys", durListKeys(t, s, "acme"), []storage.SigningKey{recent, active, next})
	durSame(t, "other's keys", durListKeys(t, s, "other"), []storage.SigningKey{theirs})

	n, err = s.DeleteSigningKeysExpiredBefore(t.Context(), "acme", durT0.Add(2*time.Hour))
	durMust(t, err)
	if n != 0 {
		t.Errorf("second delete removed %d keys, want 0", n)
	}
}

func durTestKeyTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	ka := durKey("a", "k1", "RS256", storage.KeyActive, durT0)
	kb := durKey("b", "k1", "RS256", storage.KeyActive, durT0) // same kid, and one active RS256 per tenant
	onlyA := durKey("a", "only-a", "ES256", storage.KeyActive, durT0.Add(time.Second))
	for _, k := range []storage.SigningKey{ka, kb, onlyA} {
		durMust(t, s.CreateSigningKey(t.Context(), k))
	}
	err := s.UpdateSigningKeyState(t.Context(), "b", "only-a", storage.KeyActive, storage.KeyRetired, durT0)
	durWantErr(t, "update of a key of another tenant", err, storage.ErrNotFound)
	durMust(t, s.UpdateSigningKeyState(t.Context(), "a", "k1", storage.KeyActive, storage.KeyRetired, durT0))
	ka.State, ka.ExpiresAt = storage.KeyRetired, durT0
	durSame(t, "a's keys", durListKeys(t, s, "a"), []storage.SigningKey{ka, onlyA})
	durSame(t, "b's keys", durListKeys(t, s, "b"), []storage.SigningKey{kb})
}
