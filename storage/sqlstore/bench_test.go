package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// The hot path of a refresh grant is GetApplication, GetRefreshToken and
// RotateRefreshToken (plus IsRevoked for access tokens). Run with
//
//	go test -run '^$' -bench . -count 5 ./storage/sqlstore/
//
// and ORGID_TEST_DATABASE_URL set for the PostgreSQL variants.

// benchStores runs fn on a SQLite and a PostgreSQL store, each set up by
// benchSetup.
func benchStores(b *testing.B, fn func(b *testing.B, s *sqlstore.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		s := sqltest.SQLite(b)
		benchSetup(b, s)
		fn(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := sqltest.PostgresURL(b)
		s, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		benchSetup(b, s)
		// Plan with statistics, as autovacuum's ANALYZE provides in a
		// running deployment: without them the planner may look up a
		// freshly filled table by tenant_id alone.
		if _, err := rawDB(b, sqlstore.DialectPostgres, dsn).Exec(`ANALYZE`); err != nil {
			b.Fatal(err)
		}
		fn(b, s)
	})
}

func benchHash(i int) []byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(i))
	h := sha256.Sum256(buf[:])
	return h[:]
}

func benchToken(hash []byte, at time.Time) storage.RefreshToken {
	return storage.RefreshToken{
		TenantID:  "bench",
		TokenHash: hash,
		Grant: storage.Grant{
			ID: "grant-1", ClientID: "client-1", UserID: "user-1",
			Scopes:   []string{"openid", "profile", "email", "offline_access", "organizations"},
			Audience: []string{"client-1"},
			AuthTime: at, AMR: []string{"pwd"}, ACR: "urn:orgid:acr:password",
		},
		CreatedAt: at,
		ExpiresAt: at.Add(30 * 24 * time.Hour),
	}
}

// benchSetup makes tenant bench with one application, one refresh token
// (hash 0) and a few thousand revocations for the NOT EXISTS to look past.
func benchSetup(b *testing.B, s *sqlstore.Store) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(s.CreateTenant(ctx, storage.Tenant{ID: "bench", Name: "Bench", CreatedAt: now}))
	must(s.CreateApplication(ctx, storage.Application{
		TenantID: "bench", ClientID: "client-1", Name: "Bench", Type: storage.AppWeb,
		SecretHash:   benchHash(-1),
		RedirectURIs: []string{"https://app.example.test/callback"},
		TenantRoles:  []string{}, CreatedAt: now,
	}))
	must(s.CreateRefreshToken(ctx, benchToken(benchHash(0), now)))
	must(s.WithTx(ctx, func(tx storage.Store) error {
		for i := range 2000 {
			if err := tx.RevokeToken(ctx, "bench", fmt.Sprintf("grant-x.%d", i), now.Add(time.Hour)); err != nil {
				return err
			}
		}
		return nil
	}))
}

func BenchmarkGetApplication(b *testing.B) {
	benchStores(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetApplication(ctx, "bench", "client-1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGetRefreshToken(b *testing.B) {
	benchStores(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetRefreshToken(ctx, "bench", "grant-1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRotateRefreshToken(b *testing.B) {
	benchStores(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now()
		rt := benchToken(benchHash(0), now)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			next := rt.Rotated(benchHash(i), now, now.Add(30*24*time.Hour))
			if err := s.RotateRefreshToken(ctx, "bench", rt.TokenHash, next); err != nil {
				b.Fatal(err)
			}
			rt = next
		}
	})
}

func BenchmarkIsRevoked(b *testing.B) {
	benchStores(b, func(b *testing.B, s *sqlstore.Store) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.IsRevoked(ctx, "bench", "grant-1", "grant-1.jti"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
