package e2etest

// T is what the helpers need from a test: testing.TB satisfies it, and so
// does the load generator in bench/, which reports failures and exits.
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}
