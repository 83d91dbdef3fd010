package keys

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgid/orgid/storage"
)

// ErrWrongMasterKey means the master key in use is not the one the stored
// data was sealed with. The caller should stop: going on would write data
// that no one can ever read together with data it cannot read itself.
var ErrWrongMasterKey = errors.New("keys: wrong master key: ORGID_MASTER_KEY does not match " +
	"the key this data was encrypted with; set it to the original key " +
	"(or restore the master.key file from the data directory)")

const (
	checkMetaKey   = "master_key_check"
	checkPlaintext = "orgid master key check"
	checkAAD       = "meta/master-key-check"
)

// CheckMasterKey makes sure that s holds the master key the store's data
// was sealed with. On the first call against a store it records a sealed
// check value; later calls must be able to open it, or they return an
// error wrapping ErrWrongMasterKey. Callers that generated the key file may
// wrap the error with the file's path.
func CheckMasterKey(ctx context.Context, store storage.MetaStore, s *Sealer) error {
	sealed, err := s.Seal([]byte(checkPlaintext), []byte(checkAAD))
	if err != nil {
		return err
	}
	stored, err := store.EnsureMeta(ctx, checkMetaKey, sealed)
	if err != nil {
		return fmt.Errorf("keys: master key check: %w", err)
	}
	plain, err := s.Open(stored, []byte(checkAAD))
	if err != nil || string(plain) != checkPlaintext {
		return ErrWrongMasterKey
	}
	return nil
}
