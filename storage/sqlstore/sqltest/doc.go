// Package sqltest makes fresh sqlstore databases for tests: a SQLite file in
// the test's temporary directory, or a PostgreSQL schema of its own in the
// database that ORGID_TEST_DATABASE_URL names (the test is skipped when the
// variable is unset). Everything is removed when the test ends.
package sqltest
