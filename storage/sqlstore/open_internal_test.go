package sqlstore

import "testing"

func TestSplitSQLiteDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, path, query string }{
		{"/var/lib/orgid/orgid.db", "/var/lib/orgid/orgid.db", ""},
		{"orgid-data/orgid.db", "orgid-data/orgid.db", ""},
		{"sqlite:orgid.db", "orgid.db", ""},
		{"sqlite:///abs/orgid.db", "/abs/orgid.db", ""},
		{"file:/abs/orgid.db?_pragma=cache_size(-4000)", "/abs/orgid.db", "_pragma=cache_size(-4000)"},
	} {
		path, query := splitSQLiteDSN(tc.dsn)
		if path != tc.path || query != tc.query {
			t.Errorf("splitSQLiteDSN(%q) = %q, %q; want %q, %q", tc.dsn, path, query, tc.path, tc.query)
		}
	}
}
