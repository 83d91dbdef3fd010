package httpx

import (
	"context"

	"github.com/orgid/orgid/storage"
)

type tenantKey struct{}

// WithTenant returns ctx carrying the request's tenant.
func WithTenant(ctx context.Context, t storage.Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// Tenant returns the tenant the request is for. Every handler under
// /t/{tenant} runs behind the middleware that sets it, so ok is false only
// outside tenant paths.
func Tenant(ctx context.Context) (storage.Tenant, bool) {
	t, ok := ctx.Value(tenantKey{}).(storage.Tenant)
	return t, ok
}
