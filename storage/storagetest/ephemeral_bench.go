package storagetest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// BenchEphemeral measures the operations on the sign-in and code-exchange
// paths with 512-byte values, the same way for every backend.
func BenchEphemeral(b *testing.B, newStore func(b *testing.B) storage.Ephemeral) {
	ctx, v := context.Background(), make([]byte, 512)
	// keys are set before each benchmark so that reads hit.
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	setup := func(b *testing.B) storage.Ephemeral {
		s := newStore(b)
		for _, k := range keys {
			if err := s.Set(ctx, k, v, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		return s
	}
	b.Run("Set", func(b *testing.B) {
		s := setup(b)
		for i := 0; b.Loop(); i++ {
			if err := s.Set(ctx, keys[i&1023], v, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		s := setup(b)
		for b.Loop() {
			if _, err := s.Get(ctx, keys[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Swap", func(b *testing.B) {
		s := setup(b)
		for b.Loop() {
			if _, err := s.Swap(ctx, keys[0], v); err != nil {
				b.Fatal(err)
			}
		}
	})
	// GetParallel: many requests in flight on distinct keys, as under load.
	b.Run("GetParallel", func(b *testing.B) {
		s := setup(b)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := s.Get(ctx, keys[i&1023]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	// Take: one token-bucket take (the token endpoint does one per client
	// and one per IP), spread over 1024 buckets so that none runs dry.
	b.Run("Take", func(b *testing.B) {
		s := setup(b)
		for i := 0; b.Loop(); i++ {
			if g, err := s.Take(ctx, time.Now(), storage.Bucket{Key: "bucket" + keys[i&1023], Rate: 1e6, Burst: 1e6}); err != nil || g[0].Tokens != 1 {
				b.Fatal(g, err)
			}
		}
	})
}
