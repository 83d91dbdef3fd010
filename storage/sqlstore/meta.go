package sqlstore

import "context"

var (
	sqlInsertMeta = query(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`)
	sqlGetMeta    = query(`SELECT value FROM meta WHERE key = $1`)
)

// EnsureMeta stores value under key unless a value is already there, and
// returns the stored value. Insert-if-absent then read is race-free: of two
// processes ensuring different values, both get the one that landed first.
func (s *Store) EnsureMeta(ctx context.Context, key string, value []byte) ([]byte, error) {
	w := s.write()
	if _, err := w.exec(ctx, sqlInsertMeta, key, value); err != nil {
		return nil, wrap("ensure meta", err)
	}
	var stored []byte
	if err := w.queryRow(ctx, sqlGetMeta, key).Scan(&stored); err != nil {
		return nil, wrap("ensure meta", err)
	}
	return stored, nil
}
