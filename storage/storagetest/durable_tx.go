package storagetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableTxTests = []durableTest{
	{"WithTx/Commit", durTestTxCommit},
	{"WithTx/RollbackOnError", durTestTxRollback},
	{"WithTx/RollbackOnPanic", durTestTxPanic},
	{"WithTx/RollbackAfterFailedWrite", durTestTxFailedWrite},
	{"WithTx/Nested", durTestTxNested},
}

var errDurBoom = errors.New("storagetest: boom")

// durTxWrites writes one record of every kind through tx in tenant acme,
// which must exist with user u1, organization o1 and refresh token t1.
// Each write is read back inside the transaction.
func durTxWrites(t *testing.T, tx storage.Store) {
	t.Helper()
	ctx := t.Context()
	durMust(t, tx.CreateTenant(ctx, storage.Tenant{ID: "tx-tenant", Name: "T", CreatedAt: durT0}))
	durMust(t, tx.CreateUser(ctx, storage.User{TenantID: "acme", ID: "tx-user", Email: "tx@example.test", CreatedAt: durT0}))
	durMust(t, tx.CreateOrganization(ctx, storage.Organization{TenantID: "acme", ID: "tx-org", Name: "T", Slug: "tx", CreatedAt: durT0}))
	durMust(t, tx.AddMembership(ctx, storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner}, JoinedAt: durT0}))
	durMust(t, tx.CreateApplication(ctx, storage.Application{TenantID: "acme", ClientID: "tx-app", Name: "T", Type: storage.AppM2M, CreatedAt: durT0}))
	durMust(t, tx.CreateSigningKey(ctx, durKey("acme", "tx-key", "ES256", storage.KeyActive, durT0)))
	old := durToken("acme", "t1", "g1")
	durMust(t, tx.RotateRefreshToken(ctx, "acme", old.TokenHash, durNext(old, "tx-token", durT0.Add(time.Minute))))
	durMust(t, tx.RevokeToken(ctx, "acme", "tx-jti", durT0.Add(time.Hour)))
	if _, err := tx.EnsureMeta(ctx, "tx-meta", []byte("v")); err != nil {
		t.Fatal(err)
	}
	durMust(t, tx.CreatePermission(ctx, storage.Permission{TenantID: "acme", Name: "tx:perm", CreatedAt: durT0}))
	durMust(t, tx.CreateRole(ctx, storage.Role{TenantID: "acme", ID: "tx-role", OrganizationID: "o1", Name: "tx", Permissions: []string{"tx:perm"}, CreatedAt: durT0}))
	durMust(t, tx.AppendAudit(ctx, storage.AuditEntry{TenantID: "acme", ID: "tx-audit", Action: "tx", CreatedAt: durT0}))

	// Reads inside the transaction see its writes.
	if _, err := tx.GetUserByEmail(ctx, "acme", "TX@example.test"); err != nil {
		t.Errorf("user written in the transaction not visible in it: %v", err)
	}
	if ms, err := tx.ListUserMemberships(ctx, "acme", "u1"); err != nil || len(ms) != 1 {
		t.Errorf("membership written in the transaction not visible in it: %v %v", ms, err)
	}
	if rt, err := tx.GetRefreshToken(ctx, "acme", "g1"); err != nil || !bytes.Equal(rt.TokenHash, durHash("tx-token")) {
		t.Errorf("token rotated in the transaction not visible in it: %v", err)
	}
	if a, err := tx.GetMemberAccess(ctx, "acme", "o1", "u1"); err != nil || len(a.Permissions) != 0 {
		// u1 holds owner, not tx: the role exists but grants u1 nothing.
		t.Errorf("member access in the transaction: %+v %v", a, err)
	}
	if rs, err := tx.ListRoles(ctx, "acme", "o1"); err != nil || len(rs) != 1 {
		t.Errorf("role written in the transaction not visible in it: %v %v", rs, err)
	}
}

// durTxSetup makes the records durTxWrites needs.
func durTxSetup(t *testing.T, s storage.Store) {
	t.Helper()
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durOrg(t, s, "acme", "o1", "o1")
	durMust(t, s.CreateRefreshToken(t.Context(), durToken("acme", "t1", "g1")))
}

// durTxCheck reports whether each of durTxWrites' writes is present.
func durTxCheck(t *testing.T, s storage.Store, want bool) {
	t.Helper()
	ctx := t.Context()
	present := func(what string, err error) {
		t.Helper()
		switch {
		case want && err != nil:
			t.Errorf("%s: %v, want it committed", what, err)
		case !want && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%s: got %v, want it rolled back (ErrNotFound)", what, err)
		}
	}
	notFoundIf := func(missing bool) error {
		if missing {
			return storage.ErrNotFound
		}
		return nil
	}

	_, err := s.GetTenant(ctx, "tx-tenant")
	present("tenant", err)
	_, err = s.GetUser(ctx, "acme", "tx-user")
	present("user", err)
	_, err = s.GetOrganization(ctx, "acme", "tx-org")
	present("organization", err)
	ms, err := s.ListUserMemberships(ctx, "acme", "u1")
	durMust(t, err)
	present("membership", notFoundIf(len(ms) == 0))
	_, err = s.GetApplication(ctx, "acme", "tx-app")
	present("application", err)
	ks, err := s.ListSigningKeys(ctx, "acme")
	durMust(t, err)
	present("signing key", notFoundIf(len(ks) == 0))
	rt := durGetToken(t, s, "acme", "g1")
	present("refresh token rotation", notFoundIf(!bytes.Equal(rt.TokenHash, durHash("tx-token"))))
	revoked := durRevoked(t, s, "acme", "tx-jti")
	present("revocation", notFoundIf(!revoked))
	v, err := s.EnsureMeta(ctx, "tx-meta", []byte("after"))
	durMust(t, err)
	present("meta", notFoundIf(string(v) != "v"))
	ps, err := s.ListPermissions(ctx, "acme")
	durMust(t, err)
	present("permission", notFoundIf(len(ps) == 0))
	rs, err := s.ListRoles(ctx, "acme", "o1")
	durMust(t, err)
	present("role", notFoundIf(len(rs) == 0))
	es, _, err := s.ListAudit(ctx, "acme", storage.AuditFilter{}, storage.Page{})
	durMust(t, err)
	present("audit entry", notFoundIf(len(es) == 0))
}

func durTestTxCommit(t *testing.T, s storage.Store) {
	durTxSetup(t, s)
	durMust(t, s.WithTx(t.Context(), func(tx storage.Store) error {
		durTxWrites(t, tx)
		return nil
	}))
	durTxCheck(t, s, true)
}

func durTestTxRollback(t *testing.T, s storage.Store) {
	durTxSetup(t, s)
	err := s.WithTx(t.Context(), func(tx storage.Store) error {
		durTxWrites(t, tx)
		return errDurBoom
	})
	if !errors.Is(err, errDurBoom) {
		t.Errorf("WithTx returned %v, want fn's error", err)
	}
	durTxCheck(t, s, false)
}

func durTestTxPanic(t *testing.T, s storage.Store) {
	durTxSetup(t, s)
	func() {
		defer func() {
			if r := recover(); r != errDurBoom {
				t.Errorf("recovered %v, want the panic to pass through WithTx", r)
			}
		}()
		s.WithTx(t.Context(), func(tx storage.Store) error {
			durTxWrites(t, tx)
			panic(errDurBoom)
		})
	}()
	durTxCheck(t, s, false)
	// The store still takes writes: the transaction did not leak.
	durUser(t, s, "acme", "after-panic", "after@example.test")
}

// A write the store refuses inside a transaction, and fn giving up because
// of it, rolls back what came before.
func durTestTxFailedWrite(t *testing.T, s storage.Store) {
	durTxSetup(t, s)
	err := s.WithTx(t.Context(), func(tx storage.Store) error {
		durMust(t, tx.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "tx-user", Email: "tx@example.test", CreatedAt: durT0}))
		return tx.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "dup", Email: "U1@example.test", CreatedAt: durT0})
	})
	durWantErr(t, "transaction with a duplicate email", err, storage.ErrAlreadyExists)
	_, err = s.GetUser(t.Context(), "acme", "tx-user")
	durWantErr(t, "user written before the failure", err, storage.ErrNotFound)
}

func durTestTxNested(t *testing.T, s storage.Store) {
	durTxSetup(t, s)
	// The inner WithTx joins the outer transaction: its writes live or die
	// with the outer one.
	err := s.WithTx(t.Context(), func(tx storage.Store) error {
		durMust(t, tx.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "outer", Email: "outer@example.test", CreatedAt: durT0}))
		return tx.WithTx(t.Context(), func(inner storage.Store) error {
			durMust(t, inner.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "inner", Email: "inner@example.test", CreatedAt: durT0}))
			if _, err := inner.GetUser(t.Context(), "acme", "outer"); err != nil {
				t.Errorf("outer write not visible in the inner WithTx: %v", err)
			}
			return errDurBoom
		})
	})
	if !errors.Is(err, errDurBoom) {
		t.Errorf("WithTx returned %v, want the inner error", err)
	}
	for _, id := range []string{"outer", "inner"} {
		_, err := s.GetUser(t.Context(), "acme", id)
		durWantErr(t, id+" user after rollback", err, storage.ErrNotFound)
	}

	durMust(t, s.WithTx(t.Context(), func(tx storage.Store) error {
		return tx.WithTx(t.Context(), func(inner storage.Store) error {
			return inner.CreateUser(t.Context(), storage.User{TenantID: "acme", ID: "inner", Email: "inner@example.test", CreatedAt: durT0})
		})
	}))
	if _, err := s.GetUser(t.Context(), "acme", "inner"); err != nil {
		t.Errorf("nested write not committed: %v", err)
	}
}
