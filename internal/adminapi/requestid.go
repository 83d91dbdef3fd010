package adminapi

import (
	"context"

	"github.com/orgid/orgid/internal/httpx"
)

// requestID is the request's ID, which the server's outermost middleware
// takes from a sane X-Request-Id or makes, and echoes in the response. It
// ties problems and audit entries to the access log line.
func requestID(ctx context.Context) string { return httpx.RequestID(ctx) }

// NotFoundRoute is the route label of a path under /api/v1 that no
// endpoint serves: one value whatever the path, so that probing adds no
// metric series.
const NotFoundRoute = "/t/{tenant}/api/v1/{unknown}"
