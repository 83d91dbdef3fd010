// Package migrations holds orgid's durable schema as numbered SQL files,
// NNNN_name.sql, applied in order by sqlstore (at start and by `orgid
// migrate`). Each file is one SQL text that runs unchanged on both SQLite and
// PostgreSQL, so the two backends can never drift apart.
//
// Conventions: times are BIGINT unix microseconds (0 is the zero time),
// string lists are JSON arrays in TEXT, binary values are BYTEA, and every
// tenant-owned table leads its primary key with tenant_id. A file, once
// released, is never edited: change the schema with a new file.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
