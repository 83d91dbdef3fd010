package sqlstore

// HotQueries returns the SQL texts of the reads that token requests make,
// keyed by the Store method that runs each; a query's parameters are that
// method's arguments after the context, in order. These must stay index
// lookups however many users, organizations and memberships a tenant has:
// tests and benchmarks check their PostgreSQL plans with sqltest.Explain.
func HotQueries() map[string]string {
	return map[string]string{
		"GetApplication":        sqlGetApplication,
		"GetRefreshToken":       sqlGetRefreshToken,
		"ListUserOrganizations": sqlListUserOrganizations,
		"GetMemberAccess":       sqlGetMemberAccess,
		"GetApplicationAccess":  sqlGetApplicationAccess,
		"GetAuthKey":            sqlGetAuthKey,
		"GetExternalIdentity":   sqlGetExternalIdentity,
	}
}
