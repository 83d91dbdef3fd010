package sqlstore

import (
	"context"
	"time"
)

var (
	sqlDeleteExpiredRefreshTokens = query(`DELETE FROM refresh_tokens WHERE expires_at > 0 AND expires_at < $1`)
	sqlDeleteExpiredRevocations   = query(`DELETE FROM revocations WHERE expires_at > 0 AND expires_at < $1`)
)

// DeleteExpired removes refresh tokens and revocations that expired before
// now (a zero expiry never expires). Deletes are idempotent, so replicas
// may run it at once.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	w := s.write()
	if _, err := w.exec(ctx, sqlDeleteExpiredRefreshTokens, toMicros(now)); err != nil {
		return wrap("delete expired refresh tokens", err)
	}
	_, err := w.exec(ctx, sqlDeleteExpiredRevocations, toMicros(now))
	return wrap("delete expired revocations", err)
}
