package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgid/orgid/storage"
)

// The mail outbox (internal/mail): messages written in the transaction of
// the change that caused them, drained by senders on any replica.

const mailColumns = `tenant_id, id, recipient, subject, kind, body_sealed, status, attempts,
	next_attempt_at, lease_until, last_error, created_at, sent_at`

var (
	// A taken ID fails the primary key (ErrAlreadyExists), a missing
	// tenant the foreign key (ErrNotFound).
	sqlEnqueueMail = query(`INSERT INTO mail_outbox (` + mailColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`)
	sqlGetMail = query(`SELECT ` + mailColumns + ` FROM mail_outbox WHERE tenant_id = $1 AND id = $2`)
	// Newest first: backwards along the (tenant_id, created_at, id) index.
	sqlListMail = query(`SELECT ` + mailColumns + ` FROM mail_outbox
		WHERE tenant_id = $1 AND (created_at, id) < ($2, $3)
		ORDER BY created_at DESC, id DESC LIMIT $4`)
	// The candidates of a claim, of every tenant, by the partial
	// mail_outbox_due index: only keys, since the claim itself reads
	// the rows it wins.
	sqlMailDue = query(`SELECT tenant_id, id FROM mail_outbox
		WHERE status = 'pending' AND next_attempt_at <= $1 AND lease_until < $1
		ORDER BY next_attempt_at LIMIT $2`)
	// A claim is a compare-and-set on the lease that repeats every
	// condition of sqlMailDue, so that a message another sender claimed,
	// or claimed and finished, since it was a candidate is not taken
	// again. On PostgreSQL a concurrent claim of the same row waits for
	// the first and then matches nothing; SQLite's one writer serializes
	// them. RETURNING reads the row as the claim left it.
	sqlClaimMail = query(`UPDATE mail_outbox SET lease_until = $4
		WHERE tenant_id = $1 AND id = $2
		AND status = 'pending' AND next_attempt_at <= $3 AND lease_until < $3
		RETURNING ` + mailColumns)
	// The outcomes of an attempt, each only on a pending message; each
	// clears the lease.
	sqlFinishMailSent = query(`UPDATE mail_outbox SET status = $3, sent_at = $4, lease_until = 0
		WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`)
	sqlFinishMailRetry = query(`UPDATE mail_outbox
		SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4, lease_until = 0
		WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`)
	sqlFinishMailFailed = query(`UPDATE mail_outbox
		SET status = 'failed', attempts = attempts + 1, last_error = $3, lease_until = 0
		WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`)
	// What a FinishMail that matched no row found instead.
	sqlMailStatus = query(`SELECT status FROM mail_outbox WHERE tenant_id = $1 AND id = $2`)
)

// EnqueueMail stores m. A message without a status is pending, and one
// without a next attempt is due at its creation. ErrAlreadyExists when
// its ID is taken in the tenant; ErrNotFound when the tenant does not
// exist.
func (s *Store) EnqueueMail(ctx context.Context, m storage.MailMessage) error {
	const op = "enqueue mail"
	if m.Status == "" {
		m.Status = storage.MailPending
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt
	}
	_, err := s.write().exec(ctx, sqlEnqueueMail,
		m.TenantID, m.ID, m.To, m.Subject, m.Kind, m.BodySealed, string(m.Status), m.Attempts,
		toMicros(m.NextAttemptAt), toMicros(m.LeaseUntil), m.LastError, toMicros(m.CreatedAt), toMicros(m.SentAt))
	return wrap(op, err)
}

// ClaimMail leases up to limit pending messages of any tenant that are
// due at now and not leased, oldest due first, until leaseUntil. It
// reads candidates and then claims each by its own compare-and-set
// UPDATE, keeping those it wins: of concurrent claimers on any number of
// replicas each message goes to exactly one, with no lock held between
// statements and no dialect-specific SQL (such as SKIP LOCKED). A claimer
// that loses every candidate returns fewer messages, or none; the next
// round finds the rest.
func (s *Store) ClaimMail(ctx context.Context, now, leaseUntil time.Time, limit int) ([]storage.MailMessage, error) {
	const op = "claim mail"
	if limit <= 0 {
		return nil, nil
	}
	if !leaseUntil.After(now) {
		// A lease that has run out already would let the next claimer
		// take the message at once.
		return nil, failf(op, errInvalid, "lease ends at or before now")
	}
	type key struct{ tenant, id string }
	var due []key
	rows, err := s.read().query(ctx, sqlMailDue, toMicros(now), limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.tenant, &k.id); err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		due = append(due, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}

	var msgs []storage.MailMessage
	w := s.write()
	for _, k := range due {
		m, err := scanMail(w.queryRow(ctx, sqlClaimMail, k.tenant, k.id, toMicros(now), toMicros(leaseUntil)))
		if errors.Is(err, sql.ErrNoRows) {
			continue // another sender won it
		}
		if err != nil {
			// The messages claimed so far stay leased until leaseUntil
			// and are claimed again after it.
			return nil, wrap(op, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// FinishMail records the outcome of an attempt on a pending message and
// clears its lease, by one UPDATE that only matches a pending message.
// ErrNotFound when there is no such message; ErrConflict when it is not
// pending.
func (s *Store) FinishMail(ctx context.Context, tenantID, id string, status storage.MailStatus, at, next time.Time, lastError string) error {
	const op = "finish mail"
	var (
		q    string
		args []any
	)
	switch status {
	case storage.MailSent, storage.MailLogged:
		q, args = sqlFinishMailSent, []any{tenantID, id, string(status), toMicros(at)}
	case storage.MailPending:
		q, args = sqlFinishMailRetry, []any{tenantID, id, lastError, toMicros(next)}
	case storage.MailFailed:
		q, args = sqlFinishMailFailed, []any{tenantID, id, lastError}
	default:
		return failf(op, errInvalid, "unknown mail status %q", status)
	}
	w := s.write()
	res, err := w.exec(ctx, q, args...)
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var st string
	if err := w.queryRow(ctx, sqlMailStatus, tenantID, id).Scan(&st); err != nil {
		return wrap(op, err) // no row: ErrNotFound
	}
	return failf(op, storage.ErrConflict, "message is %s", st)
}

// GetMail returns the tenant's message id. ErrNotFound.
func (s *Store) GetMail(ctx context.Context, tenantID, id string) (storage.MailMessage, error) {
	m, err := scanMail(s.read().queryRow(ctx, sqlGetMail, tenantID, id))
	return m, wrap("get mail", err)
}

// ListMail pages through the tenant's outbox, newest first (ties by ID,
// descending).
func (s *Store) ListMail(ctx context.Context, tenantID string, p storage.Page) ([]storage.MailMessage, string, error) {
	const op = "list mail"
	before, err := decodeCursor(op, cursorMail, p, firstDescending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, sqlListMail, tenantID, before.at, before.id, limit+1)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var msgs []storage.MailMessage
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	msgs, next := pageEnd(cursorMail, msgs, limit, func(m storage.MailMessage) pageKey {
		return pageKey{toMicros(m.CreatedAt), m.ID}
	})
	return msgs, next, nil
}

func scanMail(sc scanner) (storage.MailMessage, error) {
	var (
		m                            storage.MailMessage
		status                       string
		next, lease, created, sentAt int64
	)
	err := sc.Scan(&m.TenantID, &m.ID, &m.To, &m.Subject, &m.Kind, &m.BodySealed, &status, &m.Attempts,
		&next, &lease, &m.LastError, &created, &sentAt)
	if err != nil {
		return storage.MailMessage{}, err
	}
	m.Status = storage.MailStatus(status)
	m.NextAttemptAt, m.LeaseUntil = fromMicros(next), fromMicros(lease)
	m.CreatedAt, m.SentAt = fromMicros(created), fromMicros(sentAt)
	return m, nil
}

// sqlCountPendingMail counts the outbox backlog by the partial
// mail_outbox_due index.
var sqlCountPendingMail = query(`SELECT count(*) FROM mail_outbox WHERE status = 'pending'`)

// CountPendingMail returns how many messages of every tenant wait in the
// outbox, for the orgid_mail_outbox_backlog metric.
func (s *Store) CountPendingMail(ctx context.Context) (int, error) {
	var n int
	err := s.read().queryRow(ctx, sqlCountPendingMail).Scan(&n)
	return n, wrap("count pending mail", err)
}
