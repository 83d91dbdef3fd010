package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableRevocationTests = []durableTest{
	{"Revocation/RevokeGrant", durTestRevokeGrant},
	{"Revocation/RevokeGrantBeforeTokens", durTestRevokeGrantFirst},
	{"Revocation/RevokeGrantKeepsLaterUntil", durTestRevokeLaterUntil},
	{"Revocation/IsRevokedSeveralIDs", durTestIsRevokedSeveral},
	{"Revocation/TenantIsolation", durTestRevokeTenantIsolation},
	{"Revocation/DeleteExpired", durTestDeleteExpired},
}

func durRevoked(t *testing.T, s storage.Store, tenantID string, ids ...string) bool {
	t.Helper()
	ok, err := s.IsRevoked(t.Context(), tenantID, ids...)
	durMust(t, err)
	return ok
}

func durTestRevokeGrant(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	t1 := durToken("acme", "t1", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), t1))
	t2 := durNext(t1, "t2", durT0.Add(time.Minute))
	durMust(t, s.RotateRefreshToken(t.Context(), "acme", t1.TokenHash, t2))
	durMust(t, s.CreateRefreshToken(t.Context(), durToken("acme", "other", "g2")))

	until := durT0.Add(time.Hour)
	durMust(t, s.RevokeGrant(t.Context(), "acme", "g1", until))
	// The grant's token is gone.
	durNoToken(t, s, "acme", "g1")
	if !durRevoked(t, s, "acme", "g1") {
		t.Error("g1 not revoked")
	}
	// Another grant is untouched.
	durGetToken(t, s, "acme", "g2")
	if durRevoked(t, s, "acme", "g2") {
		t.Error("g2 revoked")
	}
	// Rotation in the revoked grant finds nothing.
	err := s.RotateRefreshToken(t.Context(), "acme", durHash("t2"), durNext(t2, "t3", durT0.Add(2*time.Minute)))
	durWantErr(t, "rotation in a revoked grant", err, storage.ErrNotFound)
	// Idempotent.
	durMust(t, s.RevokeGrant(t.Context(), "acme", "g1", until))
	if !durRevoked(t, s, "acme", "g1") {
		t.Error("g1 not revoked after revoking twice")
	}
}

// A code exchange racing a revocation may write a token after it: the
// token must still be dead.
func durTestRevokeGrantFirst(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durMust(t, s.RevokeGrant(t.Context(), "acme", "g1", durT0.Add(time.Hour)))
	if !durRevoked(t, s, "acme", "g1") {
		t.Error("g1 not revoked")
	}
	err := s.CreateRefreshToken(t.Context(), durToken("acme", "late", "g1"))
	durWantErr(t, "token for a revoked grant", err, storage.ErrConflict)
	durNoToken(t, s, "acme", "g1")
}

func durTestRevokeLaterUntil(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durMust(t, s.RevokeGrant(t.Context(), "acme", "g1", durT0.Add(2*time.Hour)))
	durMust(t, s.RevokeGrant(t.Context(), "acme", "g1", durT0.Add(time.Hour))) // earlier: must not shorten
	durMust(t, s.RevokeToken(t.Context(), "acme", "g1.jti", durT0.Add(time.Hour)))
	durMust(t, s.RevokeToken(t.Context(), "acme", "g1.jti", durT0.Add(2*time.Hour))) // later: extends
	durMust(t, s.DeleteExpired(t.Context(), durT0.Add(90*time.Minute)))
	if !durRevoked(t, s, "acme", "g1") {
		t.Error("grant revocation shortened by a second, earlier RevokeGrant")
	}
	if !durRevoked(t, s, "acme", "g1.jti") {
		t.Error("token revocation not extended by a second, later RevokeToken")
	}
	durMust(t, s.DeleteExpired(t.Context(), durT0.Add(3*time.Hour)))
	if durRevoked(t, s, "acme", "g1", "g1.jti") {
		t.Error("revocations outlived their expiry")
	}
}

func durTestIsRevokedSeveral(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	if durRevoked(t, s, "acme") {
		t.Error("IsRevoked() with no ids = true")
	}
	durMust(t, s.RevokeToken(t.Context(), "acme", "jti-3", durT0.Add(time.Hour)))
	durMust(t, s.RevokeGrant(t.Context(), "acme", "grant-9", durT0.Add(time.Hour)))
	for _, tc := range []struct {
		ids  []string
		want bool
	}{
		{[]string{"jti-3"}, true},
		{[]string{"grant-9"}, true},
		{[]string{"jti-1"}, false},
		{[]string{"grant-1", "jti-1"}, false},
		{[]string{"grant-1", "jti-3"}, true},
		{[]string{"grant-9", "jti-1"}, true},
		{[]string{"a", "b", "c", "d", "e", "f", "g"}, false},
		{[]string{"a", "b", "c", "d", "e", "f", "jti-3"}, true},
	} {
		if got := durRevoked(t, s, "acme", tc.ids...); got != tc.want {
			t.Errorf("IsRevoked(%q) = %v, want %v", tc.ids, got, tc.want)
		}
	}
}

func durTestRevokeTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durMust(t, s.CreateRefreshToken(t.Context(), durToken("a", "t", "g1")))
	tb := durToken("b", "t", "g1")
	durMust(t, s.CreateRefreshToken(t.Context(), tb))

	durMust(t, s.RevokeGrant(t.Context(), "a", "g1", durT0.Add(time.Hour)))
	durMust(t, s.RevokeToken(t.Context(), "a", "jti", durT0.Add(time.Hour)))
	durNoToken(t, s, "a", "g1")
	if !durRevoked(t, s, "a", "g1") || !durRevoked(t, s, "a", "jti") {
		t.Error("revocations missing in a")
	}
	// The same grant ID and jti in b are someone else's.
	durSame(t, "b's token", durGetToken(t, s, "b", "g1"), tb)
	if durRevoked(t, s, "b", "g1", "jti") {
		t.Error("revoking in a revoked in b")
	}
}

func durTestDeleteExpired(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	now := durT0.Add(24 * time.Hour)
	expired := durToken("a", "expired", "g1")
	expired.ExpiresAt = now.Add(-time.Second)
	live := durToken("a", "live", "g2")
	live.ExpiresAt = now.Add(time.Hour)
	theirs := durToken("b", "expired", "g1")
	theirs.ExpiresAt = now.Add(-time.Hour)
	for _, rt := range []storage.RefreshToken{expired, live, theirs} {
		durMust(t, s.CreateRefreshToken(t.Context(), rt))
	}
	durMust(t, s.RevokeToken(t.Context(), "a", "old-jti", now.Add(-time.Second)))
	durMust(t, s.RevokeToken(t.Context(), "a", "new-jti", now.Add(time.Second)))
	durMust(t, s.RevokeGrant(t.Context(), "b", "old-grant", now.Add(-time.Minute)))

	// Replicas may sweep at the same time.
	for i, err := range durRace(func(int) error { return s.DeleteExpired(t.Context(), now) }) {
		if err != nil {
			t.Errorf("DeleteExpired on racer %d: %v", i, err)
		}
	}
	durNoToken(t, s, "a", "g1")
	durNoToken(t, s, "b", "g1")
	durGetToken(t, s, "a", "g2")
	if durRevoked(t, s, "a", "old-jti") || durRevoked(t, s, "b", "old-grant") {
		t.Error("expired revocations kept")
	}
	if !durRevoked(t, s, "a", "new-jti") {
		t.Error("live revocation deleted")
	}
}
