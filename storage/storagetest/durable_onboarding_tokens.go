package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Single-use email links (verification, password reset), found by kind
// and the hash of their secret and used at most once, and the end of a
// user's sessions that a password reset brings.
var durableEmailTokenTests = []durableTest{
	{"EmailToken/CreateGet", durTestEmailTokenCreateGet},
	{"EmailToken/Duplicate", durTestEmailTokenDuplicate},
	{"EmailToken/MissingUser", durTestEmailTokenMissingUser},
	{"EmailToken/Use", durTestEmailTokenUse},
	{"EmailToken/UseExpired", durTestEmailTokenUseExpired},
	{"EmailToken/UseConcurrent", durTestEmailTokenUseConcurrent},
	{"EmailToken/DeleteUserCascades", durTestEmailTokenDeleteUser},
	{"EmailToken/TenantIsolation", durTestEmailTokenTenantIsolation},
	{"User/EndSessions", durTestUserEndSessions},
	{"User/EndSessionsMissing", durTestUserEndSessionsMissing},
}

// durEmailToken is an unused token of kind for user, valid for an hour
// from durT0.
func durEmailToken(tenantID, hash string, kind storage.EmailTokenKind, userID string) storage.EmailToken {
	return storage.EmailToken{
		TenantID:  tenantID,
		Hash:      durHash(hash),
		Kind:      kind,
		UserID:    userID,
		Email:     userID + "@example.test",
		CreatedAt: durT0,
		ExpiresAt: durT0.Add(time.Hour),
	}
}

func durCreateEmailToken(t *testing.T, s storage.Store, tenantID, hash string, kind storage.EmailTokenKind, userID string) storage.EmailToken {
	t.Helper()
	et := durEmailToken(tenantID, hash, kind, userID)
	durMust(t, s.CreateEmailToken(t.Context(), et))
	return et
}

func durGetEmailToken(t *testing.T, s storage.Store, tenantID string, kind storage.EmailTokenKind, hash string) storage.EmailToken {
	t.Helper()
	et, err := s.GetEmailToken(t.Context(), tenantID, kind, durHash(hash))
	durMust(t, err)
	return et
}

// A token reads back whole, used or not; it is found only under its own
// kind.
func durTestEmailTokenCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	v := durCreateEmailToken(t, s, "acme", "v1", storage.EmailTokenVerify, "u1")
	r := durCreateEmailToken(t, s, "acme", "r1", storage.EmailTokenReset, "u1")
	durSame(t, "verification token", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "v1"), v)
	durSame(t, "reset token", durGetEmailToken(t, s, "acme", storage.EmailTokenReset, "r1"), r)

	// Created used (an import) reads back used.
	used := durEmailToken("acme", "v2", storage.EmailTokenVerify, "u1")
	used.Email, used.UsedAt = "old-address@example.test", durT0.Add(time.Minute)
	durMust(t, s.CreateEmailToken(t.Context(), used))
	durSame(t, "used token", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "v2"), used)

	_, err := s.GetEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("v1"))
	durWantErr(t, "verification token read as a reset token", err, storage.ErrNotFound)
	_, err = s.GetEmailToken(t.Context(), "acme", storage.EmailTokenVerify, durHash("nope"))
	durWantErr(t, "unknown hash", err, storage.ErrNotFound)
}

// A hash is unique in the tenant whatever the kind: a taken one is
// ErrAlreadyExists and the first token stays.
func durTestEmailTokenDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	v := durCreateEmailToken(t, s, "acme", "h1", storage.EmailTokenVerify, "u1")
	durWantErr(t, "same hash, same kind, another user",
		s.CreateEmailToken(t.Context(), durEmailToken("acme", "h1", storage.EmailTokenVerify, "u2")), storage.ErrAlreadyExists)
	durWantErr(t, "same hash, another kind",
		s.CreateEmailToken(t.Context(), durEmailToken("acme", "h1", storage.EmailTokenReset, "u1")), storage.ErrAlreadyExists)
	durSame(t, "the first token", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "h1"), v)
	_, err := s.GetEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("h1"))
	durWantErr(t, "the refused reset token", err, storage.ErrNotFound)
}

// A token of a user that does not exist (in this tenant) is ErrNotFound.
func durTestEmailTokenMissingUser(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durUser(t, s, "other", "u1", "u1@example.test")
	durWantErr(t, "token of a missing user",
		s.CreateEmailToken(t.Context(), durEmailToken("acme", "h1", storage.EmailTokenVerify, "u1")), storage.ErrNotFound)
	_, err := s.GetEmailToken(t.Context(), "acme", storage.EmailTokenVerify, durHash("h1"))
	durWantErr(t, "the refused token", err, storage.ErrNotFound)
}

// A token is used once: the use returns it marked used; a second use is
// ErrConflict and changes nothing; an unknown hash, or a token of another
// kind, is ErrNotFound.
func durTestEmailTokenUse(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	et := durCreateEmailToken(t, s, "acme", "h1", storage.EmailTokenReset, "u1")
	at := durT0.Add(10 * time.Minute)
	got, err := s.UseEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("h1"), at)
	durMust(t, err)
	et.UsedAt = at
	durSame(t, "used token as returned", got, et)
	durSame(t, "used token", durGetEmailToken(t, s, "acme", storage.EmailTokenReset, "h1"), et)

	_, err = s.UseEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("h1"), at.Add(time.Second))
	durWantErr(t, "second use", err, storage.ErrConflict)
	durSame(t, "token after a second use", durGetEmailToken(t, s, "acme", storage.EmailTokenReset, "h1"), et)

	_, err = s.UseEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("nope"), at)
	durWantErr(t, "use of an unknown hash", err, storage.ErrNotFound)
	durCreateEmailToken(t, s, "acme", "h2", storage.EmailTokenVerify, "u1")
	_, err = s.UseEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("h2"), at)
	durWantErr(t, "verification token used as a reset token", err, storage.ErrNotFound)
	if got := durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "h2"); !got.UsedAt.IsZero() {
		t.Errorf("verification token used through another kind: %+v", got)
	}
}

// A token has expired at its ExpiresAt: a use then, or later, is
// ErrConflict and leaves it unused; a use the microsecond before
// succeeds.
func durTestEmailTokenUseExpired(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	et := durCreateEmailToken(t, s, "acme", "h1", storage.EmailTokenVerify, "u1")
	for _, at := range []time.Time{et.ExpiresAt, et.ExpiresAt.Add(time.Hour)} {
		_, err := s.UseEmailToken(t.Context(), "acme", storage.EmailTokenVerify, durHash("h1"), at)
		durWantErr(t, "use of an expired token", err, storage.ErrConflict)
	}
	durSame(t, "expired token", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "h1"), et)
	_, err := s.UseEmailToken(t.Context(), "acme", storage.EmailTokenVerify, durHash("h1"), et.ExpiresAt.Add(-time.Microsecond))
	durMust(t, err)
}

// Of concurrent uses of one token exactly one succeeds.
func durTestEmailTokenUseConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durCreateEmailToken(t, s, "acme", "h1", storage.EmailTokenReset, "u1")
	errs := durRace(func(i int) error {
		_, err := s.UseEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("h1"), durT0.Add(time.Duration(i+1)*time.Second))
		return err
	})
	durOneWinner(t, errs, storage.ErrConflict)
	if got := durGetEmailToken(t, s, "acme", storage.EmailTokenReset, "h1"); got.UsedAt.IsZero() {
		t.Error("token unused after the race")
	}
}

// A user's tokens go with them, and not another user's; the hash is free
// again.
func durTestEmailTokenDeleteUser(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	durCreateEmailToken(t, s, "acme", "h1", storage.EmailTokenVerify, "u1")
	durCreateEmailToken(t, s, "acme", "h2", storage.EmailTokenReset, "u1")
	other := durCreateEmailToken(t, s, "acme", "h3", storage.EmailTokenVerify, "u2")
	durMust(t, s.DeleteUser(t.Context(), "acme", "u1"))
	_, err := s.GetEmailToken(t.Context(), "acme", storage.EmailTokenVerify, durHash("h1"))
	durWantErr(t, "deleted user's verification token", err, storage.ErrNotFound)
	_, err = s.UseEmailToken(t.Context(), "acme", storage.EmailTokenReset, durHash("h2"), durT0)
	durWantErr(t, "use of a deleted user's reset token", err, storage.ErrNotFound)
	durSame(t, "u2's token", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "h3"), other)
	durCreateEmailToken(t, s, "acme", "h1", storage.EmailTokenVerify, "u2")
}

// Another tenant's token is neither found nor used; the same hash is free
// in every tenant.
func durTestEmailTokenTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durUser(t, s, "a", "u1", "u1@example.test")
	durUser(t, s, "b", "u1", "u1@example.test")
	ta := durCreateEmailToken(t, s, "a", "h1", storage.EmailTokenReset, "u1")
	durCreateEmailToken(t, s, "b", "h1", storage.EmailTokenReset, "u1")
	durCreateEmailToken(t, s, "a", "only-a", storage.EmailTokenReset, "u1")

	_, err := s.GetEmailToken(t.Context(), "b", storage.EmailTokenReset, durHash("only-a"))
	durWantErr(t, "a's token read in b", err, storage.ErrNotFound)
	_, err = s.UseEmailToken(t.Context(), "b", storage.EmailTokenReset, durHash("only-a"), durT0)
	durWantErr(t, "a's token used in b", err, storage.ErrNotFound)
	_, err = s.UseEmailToken(t.Context(), "b", storage.EmailTokenReset, durHash("h1"), durT0)
	durMust(t, err)
	durSame(t, "a's h1 after b's was used", durGetEmailToken(t, s, "a", storage.EmailTokenReset, "h1"), ta)
}

// EndUserSessions sets SessionsNotBefore, which every read of the user
// shows and UpdateUser keeps, and deletes the user's refresh tokens, not
// other users'.
func durTestUserEndSessions(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	u := durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	durUserToken(t, s, "acme", "g1", "u1", "c1")
	durUserToken(t, s, "acme", "g2", "u1", "c2")
	durUserToken(t, s, "acme", "g3", "u2", "c1")
	if got := durGetToken(t, s, "acme", "g1"); !got.User.SessionsNotBefore.IsZero() {
		t.Errorf("token's user before: SessionsNotBefore %v, want zero", got.User.SessionsNotBefore)
	}

	at := durT0.Add(time.Hour)
	durMust(t, s.EndUserSessions(t.Context(), "acme", "u1", at))
	u.SessionsNotBefore = at
	durSame(t, "GetUser", durGetUser(t, s, "acme", "u1"), u)
	got, err := s.GetUserByEmail(t.Context(), "acme", "U1@example.test")
	durMust(t, err)
	durSame(t, "GetUserByEmail", got, u)
	durNoToken(t, s, "acme", "g1")
	durNoToken(t, s, "acme", "g2")
	if got := durGetToken(t, s, "acme", "g3"); got.User.ID != "u2" || !got.User.SessionsNotBefore.IsZero() {
		t.Errorf("u2's token after u1's sessions ended: user %+v", got.User)
	}

	// A token issued after carries the user with SessionsNotBefore.
	durUserToken(t, s, "acme", "g4", "u1", "c1")
	if got := durGetToken(t, s, "acme", "g4"); !got.User.SessionsNotBefore.Equal(at) {
		t.Errorf("token's user after: SessionsNotBefore %v, want %v", got.User.SessionsNotBefore, at)
	}

	// UpdateUser does not write it.
	upd := u
	upd.Name, upd.UpdatedAt, upd.SessionsNotBefore = "Renamed", durT0.Add(2*time.Hour), time.Time{}
	durMust(t, s.UpdateUser(t.Context(), upd))
	upd.SessionsNotBefore = at
	durSame(t, "user after UpdateUser", durGetUser(t, s, "acme", "u1"), upd)

	// Ending them again moves it.
	durMust(t, s.EndUserSessions(t.Context(), "acme", "u1", at.Add(time.Hour)))
	durNoToken(t, s, "acme", "g4")
	if got := durGetUser(t, s, "acme", "u1"); !got.SessionsNotBefore.Equal(at.Add(time.Hour)) {
		t.Errorf("SessionsNotBefore after a second end = %v, want %v", got.SessionsNotBefore, at.Add(time.Hour))
	}
}

// EndUserSessions of a user that does not exist, in this tenant, is
// ErrNotFound and deletes nothing.
func durTestUserEndSessionsMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durUser(t, s, "a", "u1", "u1@example.test")
	durUserToken(t, s, "a", "g1", "u1", "c1")
	// b has a token of a user of the same ID it does not have.
	durUserToken(t, s, "b", "g1", "u1", "c1")
	durWantErr(t, "EndUserSessions of a missing user", s.EndUserSessions(t.Context(), "b", "u1", durT0), storage.ErrNotFound)
	durGetToken(t, s, "a", "g1")
	durGetToken(t, s, "b", "g1")
	if got := durGetUser(t, s, "a", "u1"); !got.SessionsNotBefore.IsZero() {
		t.Errorf("a's u1 after b's refused end: SessionsNotBefore %v", got.SessionsNotBefore)
	}
}
