package sqlstore

import (
	"testing"

	"github.com/orgid/orgid/migrations"
)

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || ms[0].name != "init" {
		t.Fatalf("migrations = %+v, want 0001_init first", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].version <= ms[i-1].version {
			t.Errorf("migration %d out of order", ms[i].version)
		}
	}
}
