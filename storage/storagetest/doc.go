// Package storagetest holds the conformance suites every storage backend
// runs: RunStore for a durable storage.Store and RunEphemeral for a
// storage.Ephemeral. A backend's test calls the suite with a function that
// makes a fresh, empty store, so that every backend is held to the same
// invariants as the interfaces in package storage document them.
package storagetest
