package sqlstore

import (
	"context"
	"database/sql"

	"github.com/orgid/orgid/migrations"
)

// MigrateTo applies the migrations up to version to db, as a binary of
// that schema version would have, for upgrade tests.
func MigrateTo(ctx context.Context, db *sql.DB, version int64) error {
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		return err
	}
	var upTo []migration
	for _, m := range ms {
		if m.version <= version {
			upTo = append(upTo, m)
		}
	}
	return applyMigrations(ctx, db, upTo)
}
