package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// value returns the value of c (one counter or gauge) now.
func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue() + m.GetGauge().GetValue()
}

// gauge returns the value of the registry's gauge name, gathered as a
// scrape would.
func gauge(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

func TestStoreCallErrors(t *testing.T) {
	m := New()
	for _, err := range []error{nil, storage.ErrNotFound, fmt.Errorf("get user: %w", storage.ErrAlreadyExists),
		storage.ErrConflict, storage.ErrCodeRedeemed, storage.ErrNonceUsed} {
		m.StoreCall("sqlite", "GetUser", time.Millisecond, err)
	}
	m.StoreCall("sqlite", "GetUser", time.Millisecond, fmt.Errorf("get user: %w", storage.ErrUnavailable))
	m.StoreCall("sqlite", "GetUser", time.Millisecond, errors.New("disk full"))
	if got := value(t, m.storeErr.WithLabelValues("sqlite", "GetUser")); got != 2 {
		t.Errorf("errors = %v, want 2 (answers such as not found are not failures)", got)
	}
	var h dto.Metric
	if err := m.storeDur.WithLabelValues("sqlite", "GetUser").(prometheus.Metric).Write(&h); err != nil || h.GetHistogram().GetSampleCount() != 8 {
		t.Errorf("duration samples = %d (%v), want 8", h.GetHistogram().GetSampleCount(), err)
	}
}

func TestRequestLabels(t *testing.T) {
	m := New()
	m.Request(httpx.Snapshot{}, "BREW", 404, time.Millisecond)
	m.Request(httpx.Snapshot{Route: "/t/{tenant}/oauth/token", Tenant: "default", Error: "invalid_grant"}, "POST", 400, time.Millisecond)
	m.Request(httpx.Snapshot{Route: "/t/{tenant}/oauth/token", Tenant: "default", Error: "Not A Code; DROP"}, "POST", 400, time.Millisecond)
	if got := value(t, m.requests.WithLabelValues(UnmatchedRoute, "OTHER", "404")); got != 1 {
		t.Errorf("unmatched, unknown method: %v", got)
	}
	if got := value(t, m.refusals.WithLabelValues("default", "/t/{tenant}/oauth/token", "invalid_grant")); got != 1 {
		t.Errorf("invalid_grant refusals: %v", got)
	}
	if got := value(t, m.refusals.WithLabelValues("default", "/t/{tenant}/oauth/token", "other")); got != 1 {
		t.Errorf("a code of the wrong shape is not counted as other: %v", got)
	}
}

func TestErrorLabel(t *testing.T) {
	for in, want := range map[string]string{
		"invalid_client": "invalid_client", "not-found": "not-found", "rate_limited": "rate_limited",
		"": "other", "Invalid": "other", "a b": "other", strings.Repeat("a", 41): "other", "x/y": "other",
	} {
		if got := ErrorLabel(in); got != want {
			t.Errorf("ErrorLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMailBacklog: the gauge reports the count, asks for it under a short
// deadline, and keeps the last value when the store fails, so a scrape
// during an outage neither hangs nor loses the series.
func TestMailBacklog(t *testing.T) {
	m := New()
	n, fail := 7, false
	m.RegisterMailBacklog(func(ctx context.Context) (int, error) {
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > backlogTimeout {
			t.Errorf("count without a deadline of at most %v", backlogTimeout)
		}
		if fail {
			return 0, storage.ErrUnavailable
		}
		return n, nil
	}, nil)
	want := func(v float64) {
		t.Helper()
		if got := gauge(t, m, "orgid_mail_outbox_backlog"); got != v {
			t.Errorf("backlog %v, want %v", got, v)
		}
	}
	want(7)
	n = 3
	want(3)
	fail = true
	want(3)
}

func TestCacheObserver(t *testing.T) {
	m := New()
	obs := m.CacheObserver("client")
	obs(true)
	obs(true)
	obs(false)
	m.CacheLookup("client", false)
	if h, mi := value(t, m.cache.WithLabelValues("client", "hit")), value(t, m.cache.WithLabelValues("client", "miss")); h != 2 || mi != 2 {
		t.Errorf("hits %v misses %v, want 2 and 2", h, mi)
	}
}
