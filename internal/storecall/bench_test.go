package storecall_test

import (
	"context"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/storecall"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/memstore"
)

// BenchmarkOverhead is what the wrapper adds to one call: a Get on the
// in-process store, bare and wrapped, with a context without a deadline
// (the wrapper adds one) and with an earlier one (it adds none).
//
//	go test ./internal/storecall -run '^$' -bench Overhead -count 5
func BenchmarkOverhead(b *testing.B) {
	mem := memstore.New()
	defer mem.Close()
	ctx := context.Background()
	if err := mem.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		b.Fatal(err)
	}
	early, cancel := context.WithTimeout(ctx, 4*time.Second) // before the wrapper's 5 s
	defer cancel()
	wrapped := storecall.Ephemeral(mem, "memory", 5*time.Second, nopObserver{})
	for _, c := range []struct {
		name string
		eph  storage.Ephemeral
		ctx  context.Context
	}{{"bare", mem, ctx}, {"wrapped", wrapped, ctx}, {"wrapped/earlier_deadline", wrapped, early}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.eph.Get(c.ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type nopObserver struct{}

func (nopObserver) StoreCall(string, string, time.Duration, error) {}
