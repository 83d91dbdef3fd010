package keys

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage"
)

func TestCheckMasterKey(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		ctx := context.Background()
		master := randomKey(t)
		s, _ := NewSealer(master)
		if err := CheckMasterKey(ctx, store, s); err != nil {
			t.Fatalf("first check: %v", err)
		}
		same, _ := NewSealer(master)
		if err := CheckMasterKey(ctx, store, same); err != nil {
			t.Fatalf("same key again: %v", err)
		}
		err := CheckMasterKey(ctx, store, newTestSealer(t))
		if !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("other key: err = %v, want ErrWrongMasterKey", err)
		}
		if !strings.Contains(err.Error(), "ORGID_MASTER_KEY") {
			t.Errorf("message does not name ORGID_MASTER_KEY: %s", err)
		}
		// The right key still works after a refused one: nothing was overwritten.
		if err := CheckMasterKey(ctx, store, s); err != nil {
			t.Fatalf("right key after wrong one: %v", err)
		}
	})
}
