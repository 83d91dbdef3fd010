package storagetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableRefreshTokenTests = []durableTest{
	{"RefreshToken/CreateGet", durTestRTCreateGet},
	{"RefreshToken/WithUser", durTestRTWithUser},
	{"RefreshToken/Duplicate", durTestRTDuplicate},
	{"RefreshToken/Missing", durTestRTMissing},
	{"RefreshToken/Rotate", durTestRTRotate},
	{"RefreshToken/PreviousHashesCapped", durTestRTPreviousCapped},
	{"RefreshToken/RotateStale", durTestRTRotateStale},
	{"RefreshToken/RotateMissing", durTestRTRotateMissing},
	{"RefreshToken/ConcurrentRotate", durTestRTConcurrentRotate},
	{"RefreshToken/TenantIsolation", durTestRTTenantIsolation},
}

func durGetToken(t *testing.T, s storage.Store, tenantID, grantID string) storage.RefreshToken {
	t.Helper()
	rt, err := s.GetRefreshToken(t.Context(), tenantID, grantID)
	durMust(t, err)
	return rt
}

func durNoToken(t *testing.T, s storage.Store, tenantID, grantID string) {
	t.Helper()
	_, err := s.GetRefreshToken(t.Context(), tenantID, grantID)
	durWantErr(t, "GetRefreshToken("+grantID+")", err, storage.ErrNotFound)
}

// durNext is the token that replaces rt in a rotation.
func durNext(rt storage.RefreshToken, hash string, at time.Time) storage.RefreshToken {
	return rt.Rotated(durHash(hash), at, at.Add(30*24*time.Hour))
}

func durTestRTCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durToken("acme", "t1", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), want))
	durSame(t, "refresh token", durGetToken(t, s, "acme", "g1"), want)

	// A grant with no audience, AMR or ACR reads back empty.
	bare := storage.RefreshToken{
		TenantID: "acme", TokenHash: durHash("t2"),
		Grant:     storage.Grant{ID: "g2", ClientID: "c", UserID: "u", Scopes: []string{"openid"}},
		CreatedAt: durT0, ExpiresAt: durT0.Add(time.Hour),
	}
	durMust(t, s.CreateRefreshToken(t.Context(), bare))
	durSame(t, "bare refresh token", durGetToken(t, s, "acme", "g2"), bare)
}

// The grant's user comes with the token, without its password hash; a
// token whose user is gone comes with no user.
func durTestRTWithUser(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	u := durUser(t, s, "acme", "user-1", "ada@example.test")
	durMust(t, s.CreateRefreshToken(t.Context(), durToken("acme", "t1", "g1")))
	got := durGetToken(t, s, "acme", "g1")
	u.PasswordHash = ""
	durSame(t, "the grant's user", got.User, u)

	orphan := durToken("acme", "t2", "g2")
	orphan.Grant.UserID = "gone"
	durMust(t, s.CreateRefreshToken(t.Context(), orphan))
	if got := durGetToken(t, s, "acme", "g2"); got.User.ID != "" {
		t.Errorf("token of a missing user came with user %+v", got.User)
	}
}

func durTestRTDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durToken("acme", "t1", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), want))
	dup := durToken("acme", "t-other", "g1")
	durWantErr(t, "second token of g1", s.CreateRefreshToken(t.Context(), dup), storage.ErrAlreadyExists)
	durSame(t, "token after refused duplicate", durGetToken(t, s, "acme", "g1"), want)
}

func durTestRTMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durNoToken(t, s, "acme", "nope")
}

func durTestRTRotate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	old := durToken("acme", "t1", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), old))
	at := durT0.Add(time.Hour)
	next := durNext(old, "t2", at)
	durMust(t, s.RotateRefreshToken(t.Context(), "acme", old.TokenHash, next))
	got := durGetToken(t, s, "acme", "g1")
	durSame(t, "rotated token", got, next)
	if !bytes.Equal(got.TokenHash, durHash("t2")) || len(got.PreviousHashes) != 1 || !bytes.Equal(got.PreviousHashes[0], durHash("t1")) {
		t.Errorf("after one rotation: hash %x, previous %x", got.TokenHash, got.PreviousHashes)
	}

	// The chain goes on from the new token; the grant is unchanged.
	at2 := at.Add(time.Hour)
	durMust(t, s.RotateRefreshToken(t.Context(), "acme", next.TokenHash, durNext(next, "t3", at2)))
	got = durGetToken(t, s, "acme", "g1")
	if !bytes.Equal(got.TokenHash, durHash("t3")) || len(got.PreviousHashes) != 2 ||
		!bytes.Equal(got.PreviousHashes[0], durHash("t2")) || !bytes.Equal(got.PreviousHashes[1], durHash("t1")) {
		t.Errorf("after two rotations: hash %x, previous %x", got.TokenHash, got.PreviousHashes)
	}
	durSame(t, "grant after rotations", got.Grant, old.Grant)
	if !got.CreatedAt.Equal(at2) || !got.ExpiresAt.Equal(at2.Add(30*24*time.Hour)) {
		t.Errorf("times after rotation: %v %v", got.CreatedAt, got.ExpiresAt)
	}
}

func durTestRTPreviousCapped(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	rt := durToken("acme", "t0", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), rt))
	n := storage.MaxPreviousRefreshTokens + 3
	for i := 1; i <= n; i++ {
		next := durNext(rt, fmt.Sprintf("t%d", i), durT0.Add(time.Duration(i)*time.Minute))
		durMust(t, s.RotateRefreshToken(t.Context(), "acme", rt.TokenHash, next))
		rt = next
	}
	got := durGetToken(t, s, "acme", "g1")
	if len(got.PreviousHashes) != storage.MaxPreviousRefreshTokens {
		t.Fatalf("%d previous hashes kept, want %d", len(got.PreviousHashes), storage.MaxPreviousRefreshTokens)
	}
	for i, h := range got.PreviousHashes {
		if want := durHash(fmt.Sprintf("t%d", n-1-i)); !bytes.Equal(h, want) {
			t.Errorf("previous[%d] = %x, want %x", i, h, want)
		}
	}
}

func durTestRTRotateStale(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	old := durToken("acme", "t1", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), old))
	first := durNext(old, "t2", durT0.Add(time.Hour))
	durMust(t, s.RotateRefreshToken(t.Context(), "acme", old.TokenHash, first))

	err := s.RotateRefreshToken(t.Context(), "acme", old.TokenHash, durNext(old, "t3", durT0.Add(2*time.Hour)))
	durWantErr(t, "second rotation from t1", err, storage.ErrConflict)
	// Nothing written.
	durSame(t, "token after refused rotation", durGetToken(t, s, "acme", "g1"), first)
}

func durTestRTRotateMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	next := durNext(durToken("acme", "t1", "g1"), "t2", durT0)
	err := s.RotateRefreshToken(t.Context(), "acme", durHash("t1"), next)
	durWantErr(t, "rotation of an unknown grant", err, storage.ErrNotFound)
	durNoToken(t, s, "acme", "g1")
}

// Two requests presenting the same refresh token at once: exactly one
// rotates it; the others see a conflict (and op revokes the grant).
func durTestRTConcurrentRotate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	old := durToken("acme", "t1", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), old))
	errs := durRace(func(i int) error {
		return s.RotateRefreshToken(t.Context(), "acme", old.TokenHash, durNext(old, fmt.Sprintf("next-%d", i), durT0.Add(time.Duration(i+1)*time.Second)))
	})
	durOneWinner(t, errs, storage.ErrConflict)
	got := durGetToken(t, s, "acme", "g1")
	for i, err := range errs {
		if err == nil && !bytes.Equal(got.TokenHash, durHash(fmt.Sprintf("next-%d", i))) {
			t.Errorf("racer %d won but the stored hash is %x", i, got.TokenHash)
		}
	}
}

func durTestRTTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	ta := durToken("a", "same", "g1")
	tb := durToken("b", "same", "g1")
	tb.Grant.UserID = "someone-else"
	durMust(t, s.CreateRefreshToken(t.Context(), ta))
	durMust(t, s.CreateRefreshToken(t.Context(), tb))
	durMust(t, s.CreateRefreshToken(t.Context(), durToken("a", "only-a", "g2")))

	durSame(t, "b's token", durGetToken(t, s, "b", "g1"), tb)
	durNoToken(t, s, "b", "g2")
	err := s.RotateRefreshToken(t.Context(), "b", durHash("only-a"), durNext(durToken("b", "only-a", "g2"), "stolen", durT0))
	durWantErr(t, "rotation of a's grant in b", err, storage.ErrNotFound)

	// Rotating in a leaves b's grant of the same ID and hash alone.
	durMust(t, s.RotateRefreshToken(t.Context(), "a", durHash("same"), durNext(ta, "a-next", durT0)))
	durSame(t, "b's token after a rotation in a", durGetToken(t, s, "b", "g1"), tb)
}
