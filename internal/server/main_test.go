package server_test

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"

	"github.com/orgid/orgid/internal/browsertest"
	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/httpx"
)

// TestMain sends the default logger, which zitadel/oidc writes route
// registrations and request errors to, through the handler serve uses
// into the process-wide log capture; orgid's own logs go to each test's
// logger (env.logs), where tests read them, and to the capture too.
// After the run it checks that no secret a test saw is in the captured
// log, and after a run of the whole package that the tests called every
// operation of docs/openapi.yaml.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(httpx.NewLogHandler(slog.NewTextHandler(e2etest.LogCapture, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	code := m.Run()
	browsertest.Close()
	if leaks := checkLogLeaks(); leaks != 0 {
		code = leaks
	}
	if code == 0 {
		code = checkSpecCoverage()
	}
	os.Exit(code)
}

// narrowed reports the flag (-run, -skip, -list) that makes this run
// cover part of the package, or "".
func narrowed() string {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return "-" + name[len("test."):] + "=" + f.Value.String()
		}
	}
	return ""
}

// checkSpecCoverage fails the package unless the API tests called every
// operation of docs/openapi.yaml and each answered 2xx at least once: an
// operation no test reaches is one whose description is untested. It
// needs every test to have run, so a run narrowed by -run or -skip, or
// -list, does not check.
func checkSpecCoverage() int {
	if n := narrowed(); n != "" {
		fmt.Printf("%s: not checking that every operation was called: %s runs part of the package\n", specFile, n)
		return 0
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
