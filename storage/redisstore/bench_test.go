package redisstore_test

import (
	"testing"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/redisstore/redistest"
	"github.com/orgid/orgid/storage/storagetest"
)

// One loopback round trip per operation; run with ORGID_TEST_REDIS_URL set.
func BenchmarkEphemeral(b *testing.B) {
	storagetest.BenchEphemeral(b, func(b *testing.B) storage.Ephemeral {
		s, _ := redistest.New(b)
		return s
	})
}
