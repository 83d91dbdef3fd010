package server_test

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
)

// TestMain silences the default logger, which zitadel/oidc writes route
// registrations and request errors to; orgid's own logs go to each test's
// logger (env.logs), where tests read them. After a run of the whole
// package it checks that the tests called every operation of
// docs/openapi.yaml.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	code := m.Run()
	if code == 0 {
		code = checkSpecCoverage()
	}
	os.Exit(code)
}

// checkSpecCoverage fails the package unless the API tests called every
// operation of docs/openapi.yaml and each answered 2xx at least once: an
// operation no test reaches is one whose description is untested. It
// needs every test to have run, so a run narrowed by -run or -skip, or
// -list, does not check.
func checkSpecCoverage() int {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			fmt.Printf("%s: not checking that every operation was called: -%s=%s runs part of the package\n",
				specFile, name[len("test."):], f.Value)
			return 0
		}
	}
	idx, err := spec()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", specFile, err)
		return 1
	}
	var uncalled, unsucceeded []string
	for path, item := range idx.doc.Paths.Map() {
		for method, op := range item.Operations() {
			what := op.OperationID + " (" + method + " " + path + ")"
			switch {
			case !idx.seen[op.OperationID]:
				uncalled = append(uncalled, what)
			case !idx.succeeded[op.OperationID]:
				unsucceeded = append(unsucceeded, what)
			}
		}
	}
	slices.Sort(uncalled)
	slices.Sort(unsucceeded)
	for _, what := range uncalled {
		fmt.Fprintf(os.Stderr, "FAIL: no test calls %s of %s\n", what, specFile)
	}
	for _, what := range unsucceeded {
		fmt.Fprintf(os.Stderr, "FAIL: no test gets a 2xx answer from %s of %s\n", what, specFile)
	}
	if len(uncalled)+len(unsucceeded) > 0 {
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("%s: the tests called all %d operations\n", specFile, len(idx.seen))
	}
	return 0
}
