// Package storage holds orgid's domain types, the interfaces of its durable
// and ephemeral stores, and the sentinel errors every backend returns.
//
// It knows nothing of HTTP, OpenID Connect or pages: backends live beside it
// (sqlstore for SQLite and PostgreSQL, memstore and redisstore for ephemeral
// state) and storagetest holds the conformance suites they all pass.
package storage
