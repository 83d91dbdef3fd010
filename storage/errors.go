package storage

import "errors"

// Sentinel errors. Backends wrap their own failures so that callers can test
// them with errors.Is; a backend error that matches none of these is an
// internal fault whose text must never reach a client.
var (
	// ErrNotFound: the record does not exist in this tenant (or has expired).
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a record with the same identity or unique field exists.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConflict: a compare-and-set lost, e.g. a refresh token that was
	// already rotated, or a key that is no longer in the expected state.
	ErrConflict = errors.New("storage: conflict")
	// ErrUnavailable: the backend cannot be reached right now (connection
	// refused, pool exhausted, timeout). Callers answer 503 and retry later.
	ErrUnavailable = errors.New("storage: unavailable")
)
