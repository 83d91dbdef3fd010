package server

import (
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/metrics"
)

// TestRecorderKeepsController: handlers behind the observing middleware
// can still flush and set deadlines through http.ResponseController (a
// streaming or long-poll handler needs both), and the recorder sees the
// status and the error code of an OAuth error.
func TestRecorderKeepsController(t *testing.T) {
	var rec *recorder
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec = &recorder{ResponseWriter: w}
		var hw http.ResponseWriter = rec
		hw.Header().Set("Content-Type", "application/json")
		hw.WriteHeader(http.StatusBadRequest)
		rc := http.NewResponseController(hw)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		io.WriteString(hw, `{"error":"invalid_grant",`)
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if _, ok := hw.(http.Flusher); !ok {
			t.Error("recorder is not an http.Flusher")
		}
		io.WriteString(hw, `"error_description":"no"}`)
	}))
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ts.Close() // waits for the handler: rec is complete
	if resp.StatusCode != http.StatusBadRequest || string(body) != `{"error":"invalid_grant","error_description":"no"}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if rec.status != http.StatusBadRequest || rec.refusal() != "invalid_grant" {
		t.Fatalf("recorded %d %q", rec.status, rec.refusal())
	}
}

func TestRefusalCodes(t *testing.T) {
	for _, c := range []struct {
		status        int
		ct, body, loc string
		want          string
	}{
		{400, "application/json", `{"error":"unsupported_grant_type"}`, "", "unsupported_grant_type"},
		{400, "application/json", `{"error":"made_up_by_someone"}`, "", "other"},
		{404, "application/problem+json", `{"type":"urn:orgid:problem:not-found","title":"Not found"}`, "", "not-found"},
		{500, "text/plain", `{"error":"server_error"}`, "", ""},
		{400, "application/json", `not json`, "", ""},
		{302, "", "", "https://rp.test/cb?error=access_denied&state=s", "access_denied"},
		{302, "", "", "https://rp.test/cb#error=login_required&state=s", "login_required"},
		{302, "", "", "https://rp.test/cb?code=abc", ""},
		{200, "application/json", `{"error":"invalid_grant"}`, "", ""},
	} {
		w := httptest.NewRecorder()
		rec := &recorder{ResponseWriter: w}
		if c.ct != "" {
			rec.Header().Set("Content-Type", c.ct)
		}
		if c.loc != "" {
			rec.Header().Set("Location", c.loc)
		}
		rec.WriteHeader(c.status)
		io.WriteString(rec, c.body)
		if got := rec.refusal(); got != c.want {
			t.Errorf("%d %s %s %s: %q, want %q", c.status, c.ct, c.body, c.loc, got, c.want)
		}
	}
}

// TestObservePanic: a handler that panics still gets its access line and
// is counted as a 500.
func TestObservePanic(t *testing.T) {
	var logs strings.Builder
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: metrics.New()}
	ts := httptest.NewUnstartedServer(s.observe(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // net/http's report of the panic
	ts.Start()
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/x", nil)
	req.Header.Set("X-Request-Id", "trace-panic")
	if resp, err := ts.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d; want the connection dropped", resp.StatusCode)
	}
	ts.Close() // waits for the handler, and so for its access line
	line := logs.String()
	if !strings.Contains(line, "level=ERROR msg=request request_id=trace-panic") || !strings.Contains(line, "status=500") {
		t.Fatalf("access line: %s", line)
	}
	fams, err := s.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fams {
		if f.GetName() != "orgid_http_requests_total" {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "status" && l.GetValue() == "500" && m.GetCounter().GetValue() == 1 {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error("the panic is not counted as a 500")
	}
}

// BenchmarkObserve is the cost the observing middleware adds to every
// request: request ID, Info, status recording, metrics and a JSON access
// line (to io.Discard), against the bare handler.
func BenchmarkObserve(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.RequestInfo(r.Context()).SetRoute("/t/{tenant}/oauth/token")
		httpx.RequestInfo(r.Context()).SetTenant("default")
		httpx.RequestInfo(r.Context()).SetClientID("cli_abcdefghijklmnopqrst")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"access_token":"x","token_type":"Bearer"}`)
	})
	s := &Server{log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: metrics.New()}
	req := httptest.NewRequest(http.MethodPost, "/t/default/oauth/token", nil)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", h}, {"observed", s.observe(h)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
