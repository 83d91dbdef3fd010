package sqlstore

import (
	"context"
	"time"

	"github.com/orgid/orgid/storage"
)

var (
	// Starts or restarts enrolment in one statement: a pending factor is
	// replaced, a confirmed one is left alone (no row changes, which
	// PutPendingTOTP reports as ErrAlreadyExists), and a missing user fails
	// the foreign key (ErrNotFound).
	sqlPutPendingTOTP = query(`INSERT INTO user_totp (tenant_id, user_id, secret_sealed, confirmed_at, last_step, created_at)
		VALUES ($1, $2, $3, 0, $4, $5)
		ON CONFLICT (tenant_id, user_id) DO UPDATE
		SET secret_sealed = excluded.secret_sealed, last_step = excluded.last_step, created_at = excluded.created_at
		WHERE user_totp.confirmed_at = 0`)
	sqlGetTOTP = query(`SELECT secret_sealed, confirmed_at, last_step, created_at
		FROM user_totp WHERE tenant_id = $1 AND user_id = $2`)
	// What a compare-and-set below that matched no row found instead.
	sqlTOTPConfirmedAt = query(`SELECT confirmed_at FROM user_totp WHERE tenant_id = $1 AND user_id = $2`)
	sqlConfirmTOTP     = query(`UPDATE user_totp SET confirmed_at = $3, last_step = $4
		WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at = 0 AND last_step < $4`)
	// The replay check is the WHERE clause: on PostgreSQL a concurrent
	// second UPDATE of the same step waits for the first, re-reads the row
	// and no longer matches it; on SQLite the single writer serializes
	// them. Either way exactly one caller sees a row change.
	sqlUseTOTPStep = query(`UPDATE user_totp SET last_step = $3
		WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at > 0 AND last_step < $3`)
	sqlDeleteTOTP = query(`DELETE FROM user_totp WHERE tenant_id = $1 AND user_id = $2`)

	sqlInsertRecoveryCode = query(`INSERT INTO user_recovery_codes (tenant_id, user_id, code_hash, used_at)
		VALUES ($1, $2, $3, 0)`)
	// Spending a code is one compare-and-set on used_at, as a step is.
	sqlUseRecoveryCode = query(`UPDATE user_recovery_codes SET used_at = $4
		WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at = 0`)
	sqlCountRecoveryCodes = query(`SELECT COUNT(*) FROM user_recovery_codes
		WHERE tenant_id = $1 AND user_id = $2 AND used_at = 0`)
	sqlDeleteRecoveryCodes = query(`DELETE FROM user_recovery_codes WHERE tenant_id = $1 AND user_id = $2`)
)

// PutPendingTOTP stores f as the user's unconfirmed factor, replacing an
// unconfirmed one; f.ConfirmedAt is ignored. ErrAlreadyExists (nothing
// written) when the user has a confirmed factor, ErrNotFound when there is
// no such user.
func (s *Store) PutPendingTOTP(ctx context.Context, f storage.TOTPFactor) error {
	const op = "put pending totp"
	if len(f.SecretSealed) == 0 {
		return failf(op, errInvalid, "empty secret")
	}
	res, err := s.write().exec(ctx, sqlPutPendingTOTP,
		f.TenantID, f.UserID, f.SecretSealed, f.LastStep, toMicros(f.CreatedAt))
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return failf(op, storage.ErrAlreadyExists, "user has a confirmed factor")
	}
	return nil
}

// GetTOTP returns the user's factor, confirmed or not, or ErrNotFound.
func (s *Store) GetTOTP(ctx context.Context, tenantID, userID string) (storage.TOTPFactor, error) {
	f := storage.TOTPFactor{TenantID: tenantID, UserID: userID}
	var confirmed, created int64
	err := s.read().queryRow(ctx, sqlGetTOTP, tenantID, userID).Scan(&f.SecretSealed, &confirmed, &f.LastStep, &created)
	if err != nil {
		return storage.TOTPFactor{}, wrap("get totp", err)
	}
	f.ConfirmedAt, f.CreatedAt = fromMicros(confirmed), fromMicros(created)
	return f, nil
}

// ConfirmTOTP confirms the user's pending factor at at with LastStep step
// and replaces the user's recovery codes by codeHashes, in one
// transaction. ErrNotFound when the user has no factor; ErrConflict
// (nothing written) when it is confirmed already or step is not after its
// LastStep; ErrAlreadyExists (nothing written) when codeHashes repeats a
// hash.
func (s *Store) ConfirmTOTP(ctx context.Context, tenantID, userID string, step int64, codeHashes [][]byte, at time.Time) error {
	const op = "confirm totp"
	if at.IsZero() {
		// confirmed_at 0 means pending: a zero time would confirm nothing.
		return failf(op, errInvalid, "zero confirmation time")
	}
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlConfirmTOTP, tenantID, userID, toMicros(at), step)
		n, err := affected(op, res, err)
		if err != nil {
			return err
		}
		if n == 0 {
			var confirmed int64
			if err := w.queryRow(ctx, sqlTOTPConfirmedAt, tenantID, userID).Scan(&confirmed); err != nil {
				return wrap(op, err) // no row: ErrNotFound
			}
			if confirmed != 0 {
				return failf(op, storage.ErrConflict, "factor is confirmed already")
			}
			return failf(op, storage.ErrConflict, "step is not after the last step")
		}
		if _, err := w.exec(ctx, sqlDeleteRecoveryCodes, tenantID, userID); err != nil {
			return wrap(op, err)
		}
		for _, h := range codeHashes {
			if _, err := w.exec(ctx, sqlInsertRecoveryCode, tenantID, userID, h); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

// UseTOTPStep advances the confirmed factor's LastStep to step, by one
// compare-and-set UPDATE. ErrConflict (nothing written) when LastStep is
// step or later; ErrNotFound when the user has no confirmed factor.
func (s *Store) UseTOTPStep(ctx context.Context, tenantID, userID string, step int64) error {
	const op = "use totp step"
	w := s.write()
	res, err := w.exec(ctx, sqlUseTOTPStep, tenantID, userID, step)
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	// Only a refused step pays for this second read.
	var confirmed int64
	if err := w.queryRow(ctx, sqlTOTPConfirmedAt, tenantID, userID).Scan(&confirmed); err != nil {
		return wrap(op, err) // no row: ErrNotFound
	}
	if confirmed == 0 {
		return failf(op, storage.ErrNotFound, "factor is not confirmed")
	}
	return failf(op, storage.ErrConflict, "step already used")
}

// UseRecoveryCode marks the user's unused recovery code with hash
// codeHash used at at. ErrNotFound when there is no such unused code; of
// concurrent uses of one code exactly one succeeds.
func (s *Store) UseRecoveryCode(ctx context.Context, tenantID, userID string, codeHash []byte, at time.Time) error {
	const op = "use recovery code"
	if at.IsZero() {
		// used_at 0 means unused: a zero time would spend nothing.
		return failf(op, errInvalid, "zero use time")
	}
	res, err := s.write().exec(ctx, sqlUseRecoveryCode, tenantID, userID, codeHash, toMicros(at))
	return oneRow(op, "unused recovery code", res, err)
}

// CountRecoveryCodes returns how many unused recovery codes the user has
// (0 for a user without any, or no such user).
func (s *Store) CountRecoveryCodes(ctx context.Context, tenantID, userID string) (int, error) {
	var n int
	if err := s.read().queryRow(ctx, sqlCountRecoveryCodes, tenantID, userID).Scan(&n); err != nil {
		return 0, wrap("count recovery codes", err)
	}
	return n, nil
}

// DeleteMFA removes the user's factor, confirmed or not, and recovery codes
// in one transaction. ErrNotFound when the user has no factor.
func (s *Store) DeleteMFA(ctx context.Context, tenantID, userID string) error {
	const op = "delete mfa"
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlDeleteTOTP, tenantID, userID)
		if err := oneRow(op, "totp factor", res, err); err != nil {
			return err
		}
		_, err = w.exec(ctx, sqlDeleteRecoveryCodes, tenantID, userID)
		return wrap(op, err)
	})
}
