package keys

import (
	"strings"
	"testing"

	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// benchPayload is a typical access token claim set, about 400 bytes.
var benchPayload = []byte(`{"iss":"https://id.example.com/t/default","sub":"usr_k3xq7m2pz4abcdefghij",` +
	`"aud":["https://api.example.com"],"exp":1893456000,"iat":1893452400,` +
	`"jti":"grt_a1b2c3d4e5f6g7h8i9j0.tok_k1l2m3n4o5p6q7r8s9t0","client_id":"app_q2w3e4r5t6y7u8i9o0p1",` +
	`"scope":"openid profile email organizations offline_access","auth_time":1893452000,` +
	`"acr":"urn:orgid:acr:mfa","amr":["pwd","otp","mfa"],` +
	`"organization_roles":["admin"]}`)

func benchManager(b *testing.B) (*Manager, string) {
	b.Helper()
	store := sqltest.SQLite(b)
	tenant := newTenant(b, store)
	m := NewManager(store, newTestSealer(b))
	if err := m.EnsureKeys(ctx, tenant); err != nil {
		b.Fatal(err)
	}
	return m, tenant
}

func BenchmarkSign(b *testing.B) {
	if len(benchPayload) < 380 || len(benchPayload) > 420 {
		b.Fatalf("payload is %d bytes", len(benchPayload))
	}
	m, tenant := benchManager(b)
	for _, alg := range SupportedAlgorithms() {
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := m.Signer(ctx, tenant, alg)
				if err != nil {
					b.Fatal(err)
				}
				token, err := s.Sign(benchPayload, TypeAccessToken)
				if err != nil || strings.Count(token, ".") != 2 {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSignerLookup(b *testing.B) {
	m, tenant := benchManager(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Signer(ctx, tenant, ES256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignerLookupParallel(b *testing.B) {
	m, tenant := benchManager(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Signer(ctx, tenant, ES256); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
