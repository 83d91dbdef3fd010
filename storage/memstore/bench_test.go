package memstore

import (
	"testing"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

func BenchmarkEphemeral(b *testing.B) {
	storagetest.BenchEphemeral(b, func(b *testing.B) storage.Ephemeral {
		s := New()
		b.Cleanup(func() { s.Close() })
		return s
	})
}
