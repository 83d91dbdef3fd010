package op

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/memstore"
)

// BenchmarkTokenLimits measures what limits adds to a token request on
// the in-process store, apart from the grant itself: "none" is the bare
// request, "cap" reads the body through the 64 KiB cap, "cap+limit" also
// takes from the client's and the IP's buckets (never empty here).
func BenchmarkTokenLimits(b *testing.B) {
	body := "grant_type=refresh_token&refresh_token=" + strings.Repeat("r", 43)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	for _, tc := range []struct {
		name   string
		wrap   bool
		limits RateLimit
	}{
		{name: "none"},
		{name: "cap", wrap: true},
		{name: "cap+limit", wrap: true, limits: RateLimit{PerSecond: 1e6, Burst: 1e6}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			mem := memstore.New()
			defer mem.Close()
			p := &Provider{cfg: Config{State: storage.State{KV: mem}}, now: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			p.limiter.client, p.limiter.ip = tc.limits, tc.limits
			var h http.Handler = next
			if tc.wrap {
				h = p.limits(next)
			}
			ctx := httpx.WithTenant(b.Context(), storage.Tenant{ID: "default"})
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/oauth/token", strings.NewReader(body))
				r.SetBasicAuth("client-id-0123456789", "secret")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
