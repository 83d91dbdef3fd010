package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
)

// ErrNoStore means the configuration names an embedded store that does
// not exist (a mistyped data dir, say).
var ErrNoStore = errors.New("no orgid store")

// RotateKeys rotates a tenant's signing keys in the store the
// configuration names, without creating anything else: the store must
// exist, the master key must match, and the tenant must exist. It returns
// the number of keys the tenant's JWKS publishes afterwards.
func RotateKeys(ctx context.Context, cfg *config.Config, tenantID string) (int, error) {
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, "orgid.db")
		if _, err := os.Stat(path); err != nil {
			return 0, fmt.Errorf("%w at %s (check ORGID_DATA_DIR)", ErrNoStore, path)
		}
		if _, err := os.Stat(masterKeyPath(cfg)); err != nil && cfg.MasterKey == "" {
			return 0, fmt.Errorf("no master key at %s and ORGID_MASTER_KEY is not set", masterKeyPath(cfg))
		}
	}
	masterKey, _, err := loadMasterKey(cfg)
	if err != nil {
		return 0, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	sealer, err := checkedSealer(ctx, cfg, st, masterKey)
	if err != nil {
		return 0, err
	}
	if _, err := st.GetTenant(ctx, tenantID); errors.Is(err, storage.ErrNotFound) {
		return 0, fmt.Errorf("no tenant %q", tenantID)
	} else if err != nil {
		return 0, err
	}
	m := keys.NewManager(st, sealer, keys.WithClock(time.Now), keys.WithRetention(retention(cfg)))
	if err := m.Rotate(ctx, tenantID); err != nil {
		return 0, err
	}
	set, err := m.KeySet(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	return len(set.Keys), nil
}
