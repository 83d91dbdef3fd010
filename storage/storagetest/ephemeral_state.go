package storagetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// These subtests run the typed storage.State on the backend: the
// single-use and tenant-scoping guarantees op and login rely on hold only
// if the backend's Create and Swap are really atomic.
var ephemeralStateTests = []ephemeralTest{
	{"State/AuthRequest", ephTestStateAuthRequest},
	{"State/TenantScoping", ephTestStateTenantScoping},
	{"State/Code/RedeemOnce", ephTestStateCodeRedeemOnce},
	{"State/Code/Unknown", ephTestStateCodeUnknown},
	{"State/Code/Expired", ephTestStateCodeExpired},
	{"State/Code/ConcurrentRedeem", ephTestStateCodeConcurrentRedeem},
	{"State/Session", ephTestStateSession},
	{"State/Hits", ephTestStateHits},
}

const (
	ephTenantA = "tenant-a"
	ephTenantB = "tenant-b"
)

func ephAuthRequest(tenantID, id string) *storage.AuthRequest {
	maxAge := int64(300)
	// Times in UTC without monotonic reading so that a JSON round trip
	// compares equal.
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return &storage.AuthRequest{
		ID:                  id,
		TenantID:            tenantID,
		ClientID:            "client-1",
		RedirectURI:         "https://app.test/cb",
		ResponseType:        "code",
		Scopes:              []string{"openid", "organizations"},
		State:               "st",
		Nonce:               "n-0S6",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		MaxAge:              &maxAge,
		CreatedAt:           at,
		GrantID:             "grt_" + id,
		Done:                true,
		UserID:              "usr_1",
		AuthTime:            at,
		AMR:                 []string{"pwd"},
		ACR:                 "urn:orgid:acr:password",
	}
}

func ephSession(tenantID string) *storage.Session {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return &storage.Session{TenantID: tenantID, UserID: "usr_1", AuthTime: at, AMR: []string{"pwd", "otp"}, CreatedAt: at}
}

func ephWantEqual[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v\nwant %+v", what, got, want)
	}
}

func ephWantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

func ephTestStateAuthRequest(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	st := storage.State{KV: h.Store}
	ar := ephAuthRequest(ephTenantA, "ar1")
	ephMust(t, st.PutAuthRequest(ctx, ar, 10*time.Minute))
	got, err := st.AuthRequest(ctx, ephTenantA, "ar1")
	ephMust(t, err)
	ephWantEqual(t, "AuthRequest", got, ar)

	// Put replaces (login updates the request when sign-in completes).
	ar.UserID = "usr_2"
	ephMust(t, st.PutAuthRequest(ctx, ar, 10*time.Minute))
	got, err = st.AuthRequest(ctx, ephTenantA, "ar1")
	ephMust(t, err)
	ephWantEqual(t, "replaced AuthRequest", got, ar)

	ephMust(t, st.DeleteAuthRequest(ctx, ephTenantA, "ar1"))
	_, err = st.AuthRequest(ctx, ephTenantA, "ar1")
	ephWantErr(t, "AuthRequest after delete", err, storage.ErrNotFound)

	ephMust(t, st.PutAuthRequest(ctx, ephAuthRequest(ephTenantA, "ar2"), 10*time.Minute))
	h.Advance(10*time.Minute + time.Second)
	_, err = st.AuthRequest(ctx, ephTenantA, "ar2")
	ephWantErr(t, "expired AuthRequest", err, storage.ErrNotFound)
}

func ephTestStateTenantScoping(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	st := storage.State{KV: h.Store}

	ephMust(t, st.PutAuthRequest(ctx, ephAuthRequest(ephTenantA, "ar1"), time.Minute))
	_, err := st.AuthRequest(ctx, ephTenantB, "ar1")
	ephWantErr(t, "tenant B reading tenant A's auth request", err, storage.ErrNotFound)
	// Deleting from the wrong tenant must not touch A's request.
	ephMust(t, st.DeleteAuthRequest(ctx, ephTenantB, "ar1"))
	_, err = st.AuthRequest(ctx, ephTenantA, "ar1")
	ephMust(t, err)

	ephMust(t, st.PutSession(ctx, "sid", ephSession(ephTenantA), time.Hour))
	_, err = st.Session(ctx, ephTenantB, "sid")
	ephWantErr(t, "tenant B reading tenant A's session", err, storage.ErrNotFound)
	ephMust(t, st.DeleteSession(ctx, ephTenantB, "sid"))
	_, err = st.Session(ctx, ephTenantA, "sid")
	ephMust(t, err)

	ar := ephAuthRequest(ephTenantA, "ar3")
	ephMust(t, st.PutCode(ctx, "code", ar, time.Minute))
	_, err = st.RedeemCode(ctx, ephTenantB, "code", ar.GrantID)
	ephWantErr(t, "tenant B redeeming tenant A's code", err, storage.ErrNotFound)
	// ...and that attempt must not have burnt the code for tenant A.
	got, err := st.RedeemCode(ctx, ephTenantA, "code", ar.GrantID)
	ephMust(t, err)
	ephWantEqual(t, "redeemed auth request", got, ar)

	n, _, err := st.Hits(ctx, ephTenantA, "login", "alice", 3, time.Minute)
	ephMust(t, err)
	if n != 3 {
		t.Errorf("tenant A hits = %d, want 3", n)
	}
	n, _, err = st.Hits(ctx, ephTenantB, "login", "alice", 1, time.Minute)
	ephMust(t, err)
	if n != 1 {
		t.Errorf("tenant B hits = %d, want 1 (counters are per tenant)", n)
	}
}

func ephTestStateCodeRedeemOnce(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	st := storage.State{KV: h.Store}
	ar := ephAuthRequest(ephTenantA, "ar1")
	ephMust(t, st.PutCode(ctx, "code-1", ar, time.Minute))
	// A code is issued once; the same code again is refused, not overwritten.
	ephWantErr(t, "PutCode of an existing code", st.PutCode(ctx, "code-1", ar, time.Minute), storage.ErrAlreadyExists)

	got, err := st.RedeemCode(ctx, ephTenantA, "code-1", ar.GrantID)
	ephMust(t, err)
	ephWantEqual(t, "RedeemCode", got, ar)

	_, err = st.RedeemCode(ctx, ephTenantA, "code-1", ar.GrantID)
	ephWantErr(t, "second RedeemCode", err, storage.ErrCodeRedeemed)
	// The tombstone keeps refusing, and cannot be replaced by a new PutCode.
	ephWantErr(t, "PutCode over a redeemed code", st.PutCode(ctx, "code-1", ar, time.Minute), storage.ErrAlreadyExists)
	_, err = st.RedeemCode(ctx, ephTenantA, "code-1", ar.GrantID)
	ephWantErr(t, "third RedeemCode", err, storage.ErrCodeRedeemed)

	// The tombstone lives out the code's TTL and then goes.
	h.Advance(time.Minute + time.Second)
	_, err = st.RedeemCode(ctx, ephTenantA, "code-1", ar.GrantID)
	ephWantErr(t, "RedeemCode after the tombstone expired", err, storage.ErrNotFound)
}

func ephTestStateCodeUnknown(t *testing.T, h EphemeralHarness) {
	st := storage.State{KV: h.Store}
	_, err := st.RedeemCode(context.Background(), ephTenantA, "never-issued", "grt_x")
	ephWantErr(t, "RedeemCode of a never-issued code", err, storage.ErrNotFound)
}

func ephTestStateCodeExpired(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	st := storage.State{KV: h.Store}
	ar := ephAuthRequest(ephTenantA, "ar1")
	ephMust(t, st.PutCode(ctx, "code-1", ar, time.Minute))
	h.Advance(time.Minute + time.Second)
	_, err := st.RedeemCode(ctx, ephTenantA, "code-1", ar.GrantID)
	ephWantErr(t, "RedeemCode of an expired code", err, storage.ErrNotFound)
}

func ephTestStateCodeConcurrentRedeem(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	st := storage.State{KV: h.Store}
	ar := ephAuthRequest(ephTenantA, "ar1")
	ephMust(t, st.PutCode(ctx, "code-1", ar, time.Minute))
	got := make([]*storage.AuthRequest, ephemeralRacers)
	errs := make([]error, ephemeralRacers)
	ephRace(func(i int) {
		got[i], errs[i] = st.RedeemCode(ctx, ephTenantA, "code-1", ar.GrantID)
	})
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
			ephWantEqual(t, "winning RedeemCode", got[i], ar)
		case !errors.Is(err, storage.ErrCodeRedeemed):
			t.Errorf("racer %d: RedeemCode = %v, want nil or ErrCodeRedeemed", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d concurrent redemptions won, want exactly 1", winners)
	}
}

func ephTestStateSession(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	st := storage.State{KV: h.Store}
	sess := ephSession(ephTenantA)
	ephMust(t, st.PutSession(ctx, "sid-1", sess, time.Hour))
	got, err := st.Session(ctx, ephTenantA, "sid-1")
	ephMust(t, err)
	ephWantEqual(t, "Session", got, sess)
	_, err = st.Session(ctx, ephTenantA, "sid-2")
	ephWantErr(t, "unknown Session", err, storage.ErrNotFound)

	ephMust(t, st.DeleteSession(ctx, ephTenantA, "sid-1"))
	_, err = st.Session(ctx, ephTenantA, "sid-1")
	ephWantErr(t, "Session after delete", err, storage.ErrNotFound)

	ephMust(t, st.PutSession(ctx, "sid-3", sess, time.Hour))
	h.Advance(time.Hour - time.Second)
	_, err = st.Session(ctx, ephTenantA, "sid-3")
	ephMust(t, err)
	h.Advance(2 * time.Second)
	_, err = st.Session(ctx, ephTenantA, "sid-3")
	ephWantErr(t, "expired Session", err, storage.ErrNotFound)
}

func ephTestStateHits(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	st := storage.State{KV: h.Store}
	hits := func(name, subject string, delta int64, wantN int64, wantLeft time.Duration) {
		t.Helper()
		n, left, err := st.Hits(ctx, ephTenantA, name, subject, delta, time.Minute)
		if err != nil {
			t.Fatalf("Hits(%s, %s, %d) = %v", name, subject, delta, err)
		}
		if n != wantN {
			t.Errorf("Hits(%s, %s, %d) = %d, want %d", name, subject, delta, n, wantN)
		}
		ephWantTTL(t, left, wantLeft)
	}
	hits("login", "alice", 1, 1, time.Minute)
	hits("login", "alice", 1, 2, time.Minute)
	hits("login", "bob", 1, 1, time.Minute)
	hits("login-ip", "alice", 1, 1, time.Minute)
	h.Advance(45 * time.Second)
	hits("login", "alice", 0, 2, 15*time.Second)
	hits("login", "alice", 1, 3, 15*time.Second)
	h.Advance(15*time.Second + time.Second)
	// A new window: the count starts over.
	hits("login", "alice", 0, 0, time.Minute)
	hits("login", "alice", 1, 1, time.Minute)
}
