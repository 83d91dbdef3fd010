package sqlstore

import (
	"context"

	"github.com/orgid/orgid/storage"
)

// WithTx runs fn against a Store bound to one transaction, committing when
// fn returns nil and rolling back when it returns an error or panics (the
// panic is re-raised). fn's error is returned as is.
//
// A WithTx on a Store that is already bound to a transaction runs fn in
// that same transaction: the outermost WithTx decides.
//
// On SQLite the transaction holds the one writer connection until it ends,
// so fn must use tx, never the outer Store, for its writes: a write through
// the outer Store would wait for the transaction that waits for it.
func (s *Store) WithTx(ctx context.Context, fn func(tx storage.Store) error) error {
	return s.inTx(ctx, func(tx *Store) error { return fn(tx) })
}

// inTx is WithTx for this package's own multi-statement methods.
func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) (err error) {
	if s.tx != nil {
		return fn(s)
	}
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("begin", err)
	}
	txs := *s
	txs.tx = sqlTx

	committed := false
	defer func() {
		if !committed {
			// The rollback error adds nothing: fn's error or the panic
			// says what went wrong, and a failed rollback ends the
			// transaction all the same.
			sqlTx.Rollback()
		}
	}()
	if err := fn(&txs); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		committed = true // a failed Commit has ended the transaction too
		return wrap("commit", err)
	}
	committed = true
	return nil
}
