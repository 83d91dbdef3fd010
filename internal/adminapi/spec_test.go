package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
)

// specPath is the API description, tested against the live server in
// internal/server too.
const specPath = "../../docs/openapi.yaml"

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not valid OpenAPI: %v", specPath, err)
	}
	return doc
}

// TestSpecMatchesRoutes: every route the API registers is described, and
// everything described is served.
func TestSpecMatchesRoutes(t *testing.T) {
	doc := loadSpec(t)
	var described []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, method+" "+path)
		}
	}
	r := mux.NewRouter()
	New(Config{}).Register(r.PathPrefix("/t/{tenant}").Subrouter())
	var served []string
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, ok := route.GetHandler().(methods)
		if !ok {
			return nil // a subrouter's prefix
		}
		for m := range ms {
			served = append(served, m+" "+strings.TrimPrefix(tpl, "/t/{tenant}/api/v1"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(described)
	slices.Sort(served)
	for _, s := range served {
		if !slices.Contains(described, s) {
			t.Errorf("served but not in %s: %s", specPath, s)
		}
	}
	for _, d := range described {
		if !slices.Contains(served, d) {
			t.Errorf("in %s but not served: %s", specPath, d)
		}
	}
	if len(served) == 0 {
		t.Fatal("no routes registered")
	}
}

// TestSpecOperationsDescribeErrors: every operation documents the
// answers every call can get (an unauthenticated or failing call), so
// that response validation with undocumented statuses refused holds.
func TestSpecOperationsDescribeErrors(t *testing.T) {
	doc := loadSpec(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError, http.StatusServiceUnavailable} {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s %s does not describe %d", method, path, status)
				}
			}
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
		}
	}
}
