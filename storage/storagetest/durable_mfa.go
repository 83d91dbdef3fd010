package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Second factors (DESIGN §3, MFA): TOTP enrolment, replay protection by
// time step, one-time recovery codes, and User.MFAEnabled /
// MemberAccess.UserMFAEnabled derived from a confirmed factor.
var durableMFATests = []durableTest{
	{"MFA/EnrolConfirm", durTestMFAEnrolConfirm},
	{"MFA/PutPending", durTestMFAPutPending},
	{"MFA/ConfirmErrors", durTestMFAConfirmErrors},
	{"MFA/ConfirmInRolledBackTx", durTestMFAConfirmRolledBack},
	{"MFA/UseStep", durTestMFAUseStep},
	{"MFA/UseStepConcurrent", durTestMFAUseStepConcurrent},
	{"MFA/RecoveryCodes", durTestMFARecoveryCodes},
	{"MFA/RecoveryCodeConcurrent", durTestMFARecoveryConcurrent},
	{"MFA/ReenrolReplacesCodes", durTestMFAReenrol},
	{"MFA/Delete", durTestMFADelete},
	{"MFA/DeleteUserCascades", durTestMFADeleteUser},
	{"MFA/UpdateUserLeavesIt", durTestMFAUpdateUser},
	{"MFA/TenantIsolation", durTestMFATenantIsolation},
}

// durFactor is a pending factor of user with every field set.
func durFactor(tenantID, userID string) storage.TOTPFactor {
	return storage.TOTPFactor{
		TenantID: tenantID,
		UserID:   userID,
		// Sealed bytes, including ones that are not valid UTF-8.
		SecretSealed: []byte("sealed:" + tenantID + "/" + userID + "\x00\xff"),
		LastStep:     0,
		CreatedAt:    durT0,
	}
}

// durCodeHashes is n stand-in recovery-code hashes named prefix-0 … .
func durCodeHashes(prefix string, n int) [][]byte {
	hs := make([][]byte, n)
	for i := range hs {
		hs[i] = durHash(fmt.Sprintf("%s-%d", prefix, i))
	}
	return hs
}

// durEnrol stores a pending factor for user and confirms it at step with
// codes, returning the factor as GetTOTP should now show it.
func durEnrol(t *testing.T, s storage.Store, tenantID, userID string, step int64, codes [][]byte) storage.TOTPFactor {
	t.Helper()
	f := durFactor(tenantID, userID)
	durMust(t, s.PutPendingTOTP(t.Context(), f))
	at := durT0.Add(time.Minute)
	durMust(t, s.ConfirmTOTP(t.Context(), tenantID, userID, step, codes, at))
	f.ConfirmedAt, f.LastStep = at, step
	return f
}

func durGetTOTP(t *testing.T, s storage.Store, tenantID, userID string) storage.TOTPFactor {
	t.Helper()
	f, err := s.GetTOTP(t.Context(), tenantID, userID)
	durMust(t, err)
	return f
}

func durCountCodes(t *testing.T, s storage.Store, tenantID, userID string) int {
	t.Helper()
	n, err := s.CountRecoveryCodes(t.Context(), tenantID, userID)
	durMust(t, err)
	return n
}

// durMFAFixture is a user u1 (u1@example.test) of tenant acme who is a
// member of o1 and holds the refresh token of grant g1: every read that
// reports whether a user has MFA.
func durMFAFixture(t *testing.T, s storage.Store, tenantID string) {
	t.Helper()
	durTenant(t, s, tenantID)
	durUser(t, s, tenantID, "u1", "u1@example.test")
	durOrg(t, s, tenantID, "o1", "one")
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: tenantID, OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0}))
	rt := durToken(tenantID, "t1", "g1")
	rt.Grant.UserID = "u1"
	durMust(t, s.CreateRefreshToken(t.Context(), rt))
}

// durWantMFA checks MFAEnabled on every read of durMFAFixture's user.
func durWantMFA(t *testing.T, s storage.Store, tenantID string, want bool) {
	t.Helper()
	u, err := s.GetUser(t.Context(), tenantID, "u1")
	durMust(t, err)
	if u.MFAEnabled != want {
		t.Errorf("GetUser: MFAEnabled = %v, want %v", u.MFAEnabled, want)
	}
	u, err = s.GetUserByEmail(t.Context(), tenantID, "U1@example.test")
	durMust(t, err)
	if u.MFAEnabled != want {
		t.Errorf("GetUserByEmail: MFAEnabled = %v, want %v", u.MFAEnabled, want)
	}
	rt := durGetToken(t, s, tenantID, "g1")
	if rt.User.ID != "u1" || rt.User.MFAEnabled != want {
		t.Errorf("GetRefreshToken: user %q, MFAEnabled = %v; want u1, %v", rt.User.ID, rt.User.MFAEnabled, want)
	}
	a, err := s.GetMemberAccess(t.Context(), tenantID, "o1", "u1")
	durMust(t, err)
	if a.UserMFAEnabled != want {
		t.Errorf("GetMemberAccess: UserMFAEnabled = %v, want %v", a.UserMFAEnabled, want)
	}
	if len(a.Roles) != 1 {
		// The factor's join must not multiply or drop rows.
		t.Errorf("GetMemberAccess: roles %v, want [member]", a.Roles)
	}
}

// A pending factor is no second factor; a confirmed one is, on every read
// of the user.
func durTestMFAEnrolConfirm(t *testing.T, s storage.Store) {
	durMFAFixture(t, s, "acme")
	durWantMFA(t, s, "acme", false)

	f := durFactor("acme", "u1")
	f.LastStep = 7
	durMust(t, s.PutPendingTOTP(t.Context(), f))
	got := durGetTOTP(t, s, "acme", "u1")
	durSame(t, "pending factor", got, f)
	if got.Confirmed() {
		t.Error("pending factor reads back confirmed")
	}
	durWantMFA(t, s, "acme", false)

	at := durT0.Add(time.Minute)
	durMust(t, s.ConfirmTOTP(t.Context(), "acme", "u1", 1000, durCodeHashes("c", 10), at))
	want := f
	want.ConfirmedAt, want.LastStep = at, 1000
	got = durGetTOTP(t, s, "acme", "u1")
	durSame(t, "confirmed factor", got, want)
	if !got.Confirmed() {
		t.Error("confirmed factor reads back pending")
	}
	if n := durCountCodes(t, s, "acme", "u1"); n != 10 {
		t.Errorf("recovery codes after confirmation: %d, want 10", n)
	}
	durWantMFA(t, s, "acme", true)
}

func durTestMFAPutPending(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")

	for _, c := range []struct{ tenant, user, what string }{
		{"acme", "ghost", "unknown user"},
		{"nowhere", "u1", "unknown tenant"},
	} {
		err := s.PutPendingTOTP(t.Context(), durFactor(c.tenant, c.user))
		durWantErr(t, "PutPendingTOTP: "+c.what, err, storage.ErrNotFound)
		_, err = s.GetTOTP(t.Context(), c.tenant, c.user)
		durWantErr(t, "GetTOTP after refused put: "+c.what, err, storage.ErrNotFound)
	}
	_, err := s.GetTOTP(t.Context(), "acme", "u1")
	durWantErr(t, "GetTOTP before enrolment", err, storage.ErrNotFound)

	// Restarting enrolment replaces the pending factor.
	durMust(t, s.PutPendingTOTP(t.Context(), durFactor("acme", "u1")))
	again := storage.TOTPFactor{TenantID: "acme", UserID: "u1", SecretSealed: []byte("second secret"), CreatedAt: durT0.Add(time.Hour)}
	durMust(t, s.PutPendingTOTP(t.Context(), again))
	durSame(t, "replaced pending factor", durGetTOTP(t, s, "acme", "u1"), again)

	// A confirmed factor is not replaced.
	durMust(t, s.ConfirmTOTP(t.Context(), "acme", "u1", 5, durCodeHashes("c", 2), durT0.Add(2*time.Hour)))
	confirmed := durGetTOTP(t, s, "acme", "u1")
	err = s.PutPendingTOTP(t.Context(), durFactor("acme", "u1"))
	durWantErr(t, "PutPendingTOTP over a confirmed factor", err, storage.ErrAlreadyExists)
	durSame(t, "confirmed factor after refused put", durGetTOTP(t, s, "acme", "u1"), confirmed)
	if n := durCountCodes(t, s, "acme", "u1"); n != 2 {
		t.Errorf("recovery codes after refused put: %d, want 2", n)
	}
}

func durTestMFAConfirmErrors(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	at := durT0.Add(time.Minute)

	err := s.ConfirmTOTP(t.Context(), "acme", "u1", 10, durCodeHashes("c", 3), at)
	durWantErr(t, "ConfirmTOTP without a factor", err, storage.ErrNotFound)
	err = s.ConfirmTOTP(t.Context(), "acme", "ghost", 10, durCodeHashes("c", 3), at)
	durWantErr(t, "ConfirmTOTP of an unknown user", err, storage.ErrNotFound)
	if n := durCountCodes(t, s, "acme", "u1"); n != 0 {
		t.Errorf("recovery codes after refused confirmation: %d, want 0", n)
	}

	// The step must come after the pending factor's LastStep; a refused
	// confirmation writes nothing.
	pending := durFactor("acme", "u1")
	pending.LastStep = 50
	durMust(t, s.PutPendingTOTP(t.Context(), pending))
	for _, step := range []int64{50, 49, 0} {
		err := s.ConfirmTOTP(t.Context(), "acme", "u1", step, durCodeHashes("c", 3), at)
		durWantErr(t, fmt.Sprintf("ConfirmTOTP at step %d after 50", step), err, storage.ErrConflict)
	}
	durSame(t, "factor after refused confirmations", durGetTOTP(t, s, "acme", "u1"), pending)
	if n := durCountCodes(t, s, "acme", "u1"); n != 0 {
		t.Errorf("recovery codes after refused confirmation: %d, want 0", n)
	}

	durMust(t, s.ConfirmTOTP(t.Context(), "acme", "u1", 51, durCodeHashes("c", 3), at))
	confirmed := durGetTOTP(t, s, "acme", "u1")

	// Confirming twice is refused, whatever the step, and keeps the codes.
	for _, step := range []int64{51, 52} {
		err := s.ConfirmTOTP(t.Context(), "acme", "u1", step, durCodeHashes("other", 5), at.Add(time.Hour))
		durWantErr(t, fmt.Sprintf("second ConfirmTOTP at step %d", step), err, storage.ErrConflict)
	}
	durSame(t, "factor after a second confirmation", durGetTOTP(t, s, "acme", "u1"), confirmed)
	if n := durCountCodes(t, s, "acme", "u1"); n != 3 {
		t.Errorf("recovery codes after a second confirmation: %d, want 3", n)
	}
	err = s.UseRecoveryCode(t.Context(), "acme", "u1", durHash("other-0"), at)
	durWantErr(t, "code of a refused confirmation", err, storage.ErrNotFound)
}

// ConfirmTOTP inside a transaction that rolls back leaves the factor
// pending and no codes behind.
func durTestMFAConfirmRolledBack(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	f := durFactor("acme", "u1")
	durMust(t, s.PutPendingTOTP(t.Context(), f))
	errBoom := errors.New("boom")
	err := s.WithTx(t.Context(), func(tx storage.Store) error {
		if err := tx.ConfirmTOTP(t.Context(), "acme", "u1", 3, durCodeHashes("c", 4), durT0.Add(time.Minute)); err != nil {
			return err
		}
		return errBoom
	})
	durWantErr(t, "WithTx", err, errBoom)
	durSame(t, "factor after rollback", durGetTOTP(t, s, "acme", "u1"), f)
	if n := durCountCodes(t, s, "acme", "u1"); n != 0 {
		t.Errorf("recovery codes after rollback: %d, want 0", n)
	}
}

func durTestMFAUseStep(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")

	err := s.UseTOTPStep(t.Context(), "acme", "u1", 100)
	durWantErr(t, "UseTOTPStep without a factor", err, storage.ErrNotFound)
	err = s.UseTOTPStep(t.Context(), "acme", "ghost", 100)
	durWantErr(t, "UseTOTPStep of an unknown user", err, storage.ErrNotFound)

	// A pending factor accepts no sign-in code.
	durMust(t, s.PutPendingTOTP(t.Context(), durFactor("acme", "u2")))
	err = s.UseTOTPStep(t.Context(), "acme", "u2", 100)
	durWantErr(t, "UseTOTPStep of a pending factor", err, storage.ErrNotFound)
	if got := durGetTOTP(t, s, "acme", "u2"); got.LastStep != 0 || got.Confirmed() {
		t.Errorf("pending factor after refused step: %+v", got)
	}

	f := durEnrol(t, s, "acme", "u1", 100, nil)
	for _, c := range []struct {
		step int64
		want error
	}{
		{100, storage.ErrConflict}, // the confirmation's own code
		{99, storage.ErrConflict},
		{101, nil},
		{101, storage.ErrConflict}, // replayed
		{100, storage.ErrConflict},
		{105, nil}, // steps may be skipped
		{103, storage.ErrConflict},
		{106, nil},
	} {
		err := s.UseTOTPStep(t.Context(), "acme", "u1", c.step)
		if c.want == nil {
			durMust(t, err)
			f.LastStep = c.step
		} else {
			durWantErr(t, fmt.Sprintf("UseTOTPStep(%d) after %d", c.step, f.LastStep), err, c.want)
		}
		durSame(t, fmt.Sprintf("factor after step %d", c.step), durGetTOTP(t, s, "acme", "u1"), f)
	}
}

// Replicas checking the same code at once: exactly one accepts it.
func durTestMFAUseStepConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durEnrol(t, s, "acme", "u1", 100, nil)
	for step := int64(101); step <= 103; step++ {
		errs := durRace(func(int) error {
			return s.UseTOTPStep(t.Context(), "acme", "u1", step)
		})
		durOneWinner(t, errs, storage.ErrConflict)
		if got := durGetTOTP(t, s, "acme", "u1").LastStep; got != step {
			t.Errorf("LastStep after the race for %d = %d", step, got)
		}
	}
	// Racers with different steps: the latest step always ends up stored,
	// whichever order they ran in, and no step is accepted after a later one.
	errs := durRace(func(i int) error {
		return s.UseTOTPStep(t.Context(), "acme", "u1", 200+int64(i))
	})
	for i, err := range errs {
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if errs[durRacers-1] != nil {
		t.Errorf("the latest step was refused: %v", errs[durRacers-1])
	}
	if got := durGetTOTP(t, s, "acme", "u1").LastStep; got != 200+durRacers-1 {
		t.Errorf("LastStep after racers of different steps = %d, want %d", got, 200+durRacers-1)
	}
}

func durTestMFARecoveryCodes(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	if n := durCountCodes(t, s, "acme", "u1"); n != 0 {
		t.Errorf("codes before enrolment: %d", n)
	}
	codes := durCodeHashes("c", 3)
	durEnrol(t, s, "acme", "u1", 1, codes)
	durEnrol(t, s, "acme", "u2", 1, durCodeHashes("u2", 3))
	at := durT0.Add(time.Hour)

	durMust(t, s.UseRecoveryCode(t.Context(), "acme", "u1", codes[0], at))
	if n := durCountCodes(t, s, "acme", "u1"); n != 2 {
		t.Errorf("codes after one use: %d, want 2", n)
	}
	err := s.UseRecoveryCode(t.Context(), "acme", "u1", codes[0], at.Add(time.Minute))
	durWantErr(t, "second use of a code", err, storage.ErrNotFound)
	err = s.UseRecoveryCode(t.Context(), "acme", "u1", durHash("nope"), at)
	durWantErr(t, "unknown code", err, storage.ErrNotFound)
	err = s.UseRecoveryCode(t.Context(), "acme", "u1", durHash("u2-0"), at)
	durWantErr(t, "another user's code", err, storage.ErrNotFound)
	err = s.UseRecoveryCode(t.Context(), "acme", "ghost", codes[1], at)
	durWantErr(t, "code of an unknown user", err, storage.ErrNotFound)
	if n := durCountCodes(t, s, "acme", "u1"); n != 2 {
		t.Errorf("codes after refused uses: %d, want 2", n)
	}
	if n := durCountCodes(t, s, "acme", "u2"); n != 3 {
		t.Errorf("the other user's codes: %d, want 3", n)
	}

	// Spending codes leaves the factor alone, and the factor's steps
	// leave the codes alone.
	durMust(t, s.UseRecoveryCode(t.Context(), "acme", "u1", codes[2], at))
	durMust(t, s.UseTOTPStep(t.Context(), "acme", "u1", 2))
	if n := durCountCodes(t, s, "acme", "u1"); n != 1 {
		t.Errorf("codes after two uses: %d, want 1", n)
	}
	if !durGetTOTP(t, s, "acme", "u1").Confirmed() {
		t.Error("factor unconfirmed by a code's use")
	}
	durMust(t, s.UseRecoveryCode(t.Context(), "acme", "u1", codes[1], at))
	if n := durCountCodes(t, s, "acme", "u1"); n != 0 {
		t.Errorf("codes after every use: %d, want 0", n)
	}
	if u := durGetUser(t, s, "acme", "u1"); !u.MFAEnabled {
		t.Error("MFA off once the recovery codes ran out")
	}
}

// Two sign-ins with the same recovery code at once: exactly one gets in.
func durTestMFARecoveryConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	codes := durCodeHashes("c", 3)
	durEnrol(t, s, "acme", "u1", 1, codes)
	for i, code := range codes {
		errs := durRace(func(int) error {
			return s.UseRecoveryCode(t.Context(), "acme", "u1", code, durT0.Add(time.Hour))
		})
		durOneWinner(t, errs, storage.ErrNotFound)
		if n := durCountCodes(t, s, "acme", "u1"); n != len(codes)-i-1 {
			t.Errorf("codes after the race for code %d: %d, want %d", i, n, len(codes)-i-1)
		}
	}
}

// Enrolling again (after DeleteMFA) gives the user the new codes only; a
// hash from the old set that the new set repeats is unused again.
func durTestMFAReenrol(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	old := durCodeHashes("old", 3)
	durEnrol(t, s, "acme", "u1", 1, old)
	durMust(t, s.UseRecoveryCode(t.Context(), "acme", "u1", old[0], durT0.Add(time.Hour)))
	durMust(t, s.DeleteMFA(t.Context(), "acme", "u1"))

	fresh := append(durCodeHashes("new", 4), old[0])
	durEnrol(t, s, "acme", "u1", 1, fresh)
	if n := durCountCodes(t, s, "acme", "u1"); n != 5 {
		t.Errorf("codes after re-enrolment: %d, want 5", n)
	}
	err := s.UseRecoveryCode(t.Context(), "acme", "u1", old[1], durT0.Add(time.Hour))
	durWantErr(t, "old code after re-enrolment", err, storage.ErrNotFound)
	durMust(t, s.UseRecoveryCode(t.Context(), "acme", "u1", old[0], durT0.Add(time.Hour)))
	durMust(t, s.UseRecoveryCode(t.Context(), "acme", "u1", fresh[0], durT0.Add(time.Hour)))
	if n := durCountCodes(t, s, "acme", "u1"); n != 3 {
		t.Errorf("codes after two uses: %d, want 3", n)
	}
}

func durTestMFADelete(t *testing.T, s storage.Store) {
	durMFAFixture(t, s, "acme")
	err := s.DeleteMFA(t.Context(), "acme", "u1")
	durWantErr(t, "DeleteMFA without a factor", err, storage.ErrNotFound)
	err = s.DeleteMFA(t.Context(), "acme", "ghost")
	durWantErr(t, "DeleteMFA of an unknown user", err, storage.ErrNotFound)

	codes := durCodeHashes("c", 3)
	durEnrol(t, s, "acme", "u1", 100, codes)
	durWantMFA(t, s, "acme", true)
	durMust(t, s.DeleteMFA(t.Context(), "acme", "u1"))
	durWantMFA(t, s, "acme", false)
	_, err = s.GetTOTP(t.Context(), "acme", "u1")
	durWantErr(t, "GetTOTP after DeleteMFA", err, storage.ErrNotFound)
	if n := durCountCodes(t, s, "acme", "u1"); n != 0 {
		t.Errorf("codes after DeleteMFA: %d, want 0", n)
	}
	err = s.UseRecoveryCode(t.Context(), "acme", "u1", codes[0], durT0.Add(time.Hour))
	durWantErr(t, "code after DeleteMFA", err, storage.ErrNotFound)
	err = s.UseTOTPStep(t.Context(), "acme", "u1", 200)
	durWantErr(t, "UseTOTPStep after DeleteMFA", err, storage.ErrNotFound)
	err = s.DeleteMFA(t.Context(), "acme", "u1")
	durWantErr(t, "second DeleteMFA", err, storage.ErrNotFound)

	// A pending factor is deleted the same way (enrolment abandoned).
	durMust(t, s.PutPendingTOTP(t.Context(), durFactor("acme", "u1")))
	durMust(t, s.DeleteMFA(t.Context(), "acme", "u1"))
	_, err = s.GetTOTP(t.Context(), "acme", "u1")
	durWantErr(t, "GetTOTP after deleting a pending factor", err, storage.ErrNotFound)
	durWantMFA(t, s, "acme", false)
}

// The factor and the codes go with their user: a new user of the same ID
// starts without MFA.
func durTestMFADeleteUser(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	codes := durCodeHashes("c", 3)
	durEnrol(t, s, "acme", "u1", 100, codes)
	durEnrol(t, s, "acme", "u2", 100, codes)
	durMust(t, s.DeleteUser(t.Context(), "acme", "u1"))

	_, err := s.GetTOTP(t.Context(), "acme", "u1")
	durWantErr(t, "GetTOTP of a deleted user", err, storage.ErrNotFound)
	if n := durCountCodes(t, s, "acme", "u1"); n != 0 {
		t.Errorf("codes of a deleted user: %d, want 0", n)
	}
	u := durUser(t, s, "acme", "u1", "u1@example.test")
	durSame(t, "user recreated under the same ID", durGetUser(t, s, "acme", "u1"), u)
	err = s.UseRecoveryCode(t.Context(), "acme", "u1", codes[0], durT0.Add(time.Hour))
	durWantErr(t, "the deleted user's code", err, storage.ErrNotFound)
	durMust(t, s.PutPendingTOTP(t.Context(), durFactor("acme", "u1")))

	// The other user keeps theirs.
	if n := durCountCodes(t, s, "acme", "u2"); n != 3 {
		t.Errorf("the other user's codes: %d, want 3", n)
	}
	if !durGetUser(t, s, "acme", "u2").MFAEnabled {
		t.Error("the other user lost MFA")
	}
}

// UpdateUser neither writes nor clears MFAEnabled.
func durTestMFAUpdateUser(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	durEnrol(t, s, "acme", "u1", 1, nil)

	u1 := durGetUser(t, s, "acme", "u1")
	u1.MFAEnabled, u1.Name = false, "Renamed"
	durMust(t, s.UpdateUser(t.Context(), u1))
	if got := durGetUser(t, s, "acme", "u1"); !got.MFAEnabled || got.Name != "Renamed" {
		t.Errorf("after UpdateUser with MFAEnabled false: %+v; want MFA on, renamed", got)
	}
	u2 := durGetUser(t, s, "acme", "u2")
	u2.MFAEnabled = true
	durMust(t, s.UpdateUser(t.Context(), u2))
	if durGetUser(t, s, "acme", "u2").MFAEnabled {
		t.Error("UpdateUser with MFAEnabled true turned MFA on")
	}
}

func durTestMFATenantIsolation(t *testing.T, s storage.Store) {
	// The same user, organization and grant IDs in two tenants.
	durMFAFixture(t, s, "a")
	durMFAFixture(t, s, "b")
	codes := durCodeHashes("c", 3)
	fa := durEnrol(t, s, "a", "u1", 100, codes)
	durWantMFA(t, s, "a", true)
	durWantMFA(t, s, "b", false)

	_, err := s.GetTOTP(t.Context(), "b", "u1")
	durWantErr(t, "a's factor read in b", err, storage.ErrNotFound)
	durWantErr(t, "a's step used in b", s.UseTOTPStep(t.Context(), "b", "u1", 101), storage.ErrNotFound)
	durWantErr(t, "a's code used in b", s.UseRecoveryCode(t.Context(), "b", "u1", codes[0], durT0), storage.ErrNotFound)
	durWantErr(t, "a's factor deleted in b", s.DeleteMFA(t.Context(), "b", "u1"), storage.ErrNotFound)
	durWantErr(t, "a's factor confirmed in b", s.ConfirmTOTP(t.Context(), "b", "u1", 101, nil, durT0), storage.ErrNotFound)
	if n := durCountCodes(t, s, "b", "u1"); n != 0 {
		t.Errorf("b's u1 codes: %d, want 0", n)
	}

	// b's user enrols on their own, with the same code hashes and steps.
	fb := durEnrol(t, s, "b", "u1", 100, codes)
	durMust(t, s.UseTOTPStep(t.Context(), "b", "u1", 101))
	durMust(t, s.UseRecoveryCode(t.Context(), "b", "u1", codes[0], durT0))
	fb.LastStep = 101
	durSame(t, "b's factor", durGetTOTP(t, s, "b", "u1"), fb)
	durSame(t, "a's factor", durGetTOTP(t, s, "a", "u1"), fa)
	if n := durCountCodes(t, s, "a", "u1"); n != 3 {
		t.Errorf("a's codes after b used one: %d, want 3", n)
	}
	durMust(t, s.UseTOTPStep(t.Context(), "a", "u1", 101))

	durMust(t, s.DeleteMFA(t.Context(), "b", "u1"))
	durWantMFA(t, s, "a", true)
	durWantMFA(t, s, "b", false)
	if n := durCountCodes(t, s, "a", "u1"); n != 3 {
		t.Errorf("a's codes after b's DeleteMFA: %d, want 3", n)
	}
}
