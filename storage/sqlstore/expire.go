package sqlstore

import (
	"context"
	"time"
)

const (
	// emailTokenRetention is how long an email link is kept after it
	// expired: a late click still finds it, and gets the "link expired"
	// page rather than "no such link".
	emailTokenRetention = 7 * 24 * time.Hour
	// mailRetention is how long a message that is done (sent, logged or
	// failed) stays in the outbox, which the console shows.
	mailRetention = 30 * 24 * time.Hour
)

var (
	sqlDeleteExpiredRefreshTokens = query(`DELETE FROM refresh_tokens WHERE expires_at > 0 AND expires_at < $1`)
	sqlDeleteExpiredRevocations   = query(`DELETE FROM revocations WHERE expires_at > 0 AND expires_at < $1`)
	// By email_tokens_expires (0007).
	sqlDeleteExpiredEmailTokens = query(`DELETE FROM email_tokens WHERE expires_at < $1`)
	// By the partial indexes mail_outbox_sent and mail_outbox_failed
	// (0007), whose predicates these repeat word for word: a failed
	// message has no sent_at, so it goes by its creation. Pending
	// messages are never deleted, however old.
	sqlDeleteOldSentMail   = query(`DELETE FROM mail_outbox WHERE status IN ('sent', 'logged') AND sent_at < $1`)
	sqlDeleteOldFailedMail = query(`DELETE FROM mail_outbox WHERE status = 'failed' AND created_at < $1`)
)

// DeleteExpired removes refresh tokens and revocations that expired before
// now (a zero expiry never expires), email links that expired more than
// emailTokenRetention before now, and outbox messages that were sent or
// logged (or, failed, created) more than mailRetention before now.
// Invitations are kept: they are the organization's history. Deletes are
// idempotent, so replicas may run it at once.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	w := s.write()
	for _, d := range []struct {
		what   string
		q      string
		before time.Time
	}{
		{"refresh tokens", sqlDeleteExpiredRefreshTokens, now},
		{"revocations", sqlDeleteExpiredRevocations, now},
		{"email tokens", sqlDeleteExpiredEmailTokens, now.Add(-emailTokenRetention)},
		{"sent mail", sqlDeleteOldSentMail, now.Add(-mailRetention)},
		{"failed mail", sqlDeleteOldFailedMail, now.Add(-mailRetention)},
	} {
		if _, err := w.exec(ctx, d.q, toMicros(d.before)); err != nil {
			return wrap("delete expired "+d.what, err)
		}
	}
	return nil
}
