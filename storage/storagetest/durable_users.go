package storagetest

import (
	"testing"

	"github.com/orgid/orgid/storage"
)

var durableUserTests = []durableTest{
	{"User/CreateGet", durTestUserCreateGet},
	{"User/EmailCaseInsensitive", durTestUserEmailCase},
	{"User/DuplicateID", durTestUserDuplicateID},
	{"User/DuplicateEmailOtherCase", durTestUserDuplicateEmail},
	{"User/WithoutEmail", durTestUserWithoutEmail},
	{"User/Missing", durTestUserMissing},
	{"User/TenantIsolation", durTestUserTenantIsolation},
}

func durTestUserCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durUser(t, s, "acme", "u1", "alice@example.test")
	got, err := s.GetUser(t.Context(), "acme", "u1")
	durMust(t, err)
	durSame(t, "user", got, want)

	// A user without a password or a verified email keeps the zero values.
	bare := storage.User{TenantID: "acme", ID: "u2", Email: "bob@example.test", CreatedAt: durT0, UpdatedAt: durT0}
	durMust(t, s.CreateUser(t.Context(), bare))
	got, err = s.GetUser(t.Context(), "acme", "u2")
	durMust(t, err)
	durSame(t, "bare user", got, bare)
}

func durTestUserEmailCase(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durUser(t, s, "acme", "u1", "Alice@Example.TEST")
	for _, email := range []string{"Alice@Example.TEST", "alice@example.test", "ALICE@EXAMPLE.TEST"} {
		got, err := s.GetUserByEmail(t.Context(), "acme", email)
		durMust(t, err)
		// The email is kept as given; only the lookup ignores case.
		durSame(t, "GetUserByEmail("+email+")", got, want)
	}
}

func durTestUserDuplicateID(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durUser(t, s, "acme", "u1", "alice@example.test")
	err := s.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "u1", Email: "other@example.test", CreatedAt: durT0})
	durWantErr(t, "second user u1", err, storage.ErrAlreadyExists)
	_, err = s.GetUserByEmail(t.Context(), "acme", "other@example.test")
	durWantErr(t, "email of the refused user", err, storage.ErrNotFound)
	got, err := s.GetUser(t.Context(), "acme", "u1")
	durMust(t, err)
	durSame(t, "user after refused duplicate", got, want)
}

func durTestUserDuplicateEmail(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "alice@example.test")
	err := s.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "u2", Email: "ALICE@example.TEST", CreatedAt: durT0})
	durWantErr(t, "same email in other case", err, storage.ErrAlreadyExists)
	_, err = s.GetUser(t.Context(), "acme", "u2")
	durWantErr(t, "refused user", err, storage.ErrNotFound)
}

// Users linked from an identity service may have no email; they must not
// collide with each other, and "" finds nobody.
func durTestUserWithoutEmail(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durMust(t, s.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "u1", CreatedAt: durT0}))
	durMust(t, s.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "u2", CreatedAt: durT0}))
	_, err := s.GetUserByEmail(t.Context(), "acme", "")
	durWantErr(t, "GetUserByEmail(\"\")", err, storage.ErrNotFound)
	got, err := s.GetUser(t.Context(), "acme", "u2")
	durMust(t, err)
	if got.Email != "" {
		t.Errorf("email = %q, want empty", got.Email)
	}
}

func durTestUserMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	_, err := s.GetUser(t.Context(), "acme", "nope")
	durWantErr(t, "GetUser(nope)", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(t.Context(), "acme", "nobody@example.test")
	durWantErr(t, "GetUserByEmail(nobody)", err, storage.ErrNotFound)
	_, err = s.GetUser(t.Context(), "no-such-tenant", "nope")
	durWantErr(t, "GetUser in a missing tenant", err, storage.ErrNotFound)
}

func durTestUserTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	ua := durUser(t, s, "a", "u1", "alice@example.test")
	// Same ID and same email in another tenant: a different person.
	ub := durUser(t, s, "b", "u1", "Alice@Example.test")
	durMust(t, s.CreateUser(t.Context(), storage.User{TenantID: "a", ID: "only-a", Email: "solo@example.test", CreatedAt: durT0}))

	got, err := s.GetUser(t.Context(), "b", "u1")
	durMust(t, err)
	durSame(t, "b's u1", got, ub)
	got, err = s.GetUserByEmail(t.Context(), "a", "ALICE@example.test")
	durMust(t, err)
	durSame(t, "a's alice", got, ua)

	_, err = s.GetUser(t.Context(), "b", "only-a")
	durWantErr(t, "a's user looked up in b", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(t.Context(), "b", "solo@example.test")
	durWantErr(t, "a's email looked up in b", err, storage.ErrNotFound)
}
