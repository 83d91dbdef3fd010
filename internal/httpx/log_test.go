package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/httpx"
)

// jsonLog returns a logger writing JSON lines through the request-ID
// handler at level, and a function decoding the lines written so far.
func jsonLog(t *testing.T, level slog.Level) (*slog.Logger, func() []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(httpx.NewLogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})))
	return log, func() []map[string]any {
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if l == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("not JSON: %q", l)
			}
			lines = append(lines, m)
		}
		return lines
	}
}

func requestCtx(id string) context.Context {
	return httpx.WithInfo(context.Background(), &httpx.Info{RequestID: id})
}

func TestLogHandlerAddsRequestID(t *testing.T) {
	log, lines := jsonLog(t, slog.LevelInfo)
	log.InfoContext(requestCtx("req-1"), "in a request", slog.String("k", "v"))
	log.InfoContext(context.Background(), "outside")
	log.Info("no context")
	log.InfoContext(httpx.WithInfo(context.Background(), &httpx.Info{}), "empty id")

	got := lines()
	if len(got) != 4 {
		t.Fatalf("%d lines, want 4: %v", len(got), got)
	}
	if got[0]["request_id"] != "req-1" || got[0]["k"] != "v" {
		t.Errorf("line in a request = %v, want request_id req-1 and k=v", got[0])
	}
	for _, l := range got[1:] {
		if _, ok := l["request_id"]; ok {
			t.Errorf("line %q has a request_id: %v", l["msg"], l)
		}
	}
}

func TestLogHandlerWithAttrsAndGroups(t *testing.T) {
	log, lines := jsonLog(t, slog.LevelInfo)
	ctx := requestCtx("req-2")
	log.With("component", "op").InfoContext(ctx, "attrs")
	log.With("component", "op").WithGroup("g").With("inner", 1).InfoContext(ctx, "grouped", slog.String("k", "v"))
	log.WithGroup("g").InfoContext(context.Background(), "grouped, no request", slog.String("k", "v"))

	got := lines()
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3", len(got))
	}
	if got[0]["request_id"] != "req-2" || got[0]["component"] != "op" {
		t.Errorf("With line = %v", got[0])
	}
	// request_id stays at the top level even inside a group, where
	// every search for it looks.
	g, _ := got[1]["g"].(map[string]any)
	if got[1]["request_id"] != "req-2" || got[1]["component"] != "op" || g["inner"] != float64(1) || g["k"] != "v" {
		t.Errorf("grouped line = %v", got[1])
	}
	if _, ok := g["request_id"]; ok {
		t.Errorf("request_id inside the group: %v", got[1])
	}
	g, _ = got[2]["g"].(map[string]any)
	if _, ok := got[2]["request_id"]; ok || g["k"] != "v" {
		t.Errorf("grouped line without request = %v", got[2])
	}
}

func TestLogHandlerEnabledAndIdempotent(t *testing.T) {
	h := httpx.NewLogHandler(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Enabled does not follow the wrapped handler's level")
	}
	if g := h.WithGroup("x").WithAttrs([]slog.Attr{slog.Int("a", 1)}); g.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Enabled after WithGroup/WithAttrs does not follow the wrapped handler")
	}
	if httpx.NewLogHandler(h) != h {
		t.Error("wrapping twice makes a second wrapper (request_id would be added twice)")
	}

	var buf bytes.Buffer
	log := slog.New(httpx.NewLogHandler(httpx.NewLogHandler(slog.NewTextHandler(&buf, nil))))
	log.InfoContext(requestCtx("req-3"), "once")
	if n := strings.Count(buf.String(), "request_id="); n != 1 {
		t.Errorf("request_id appears %d times: %s", n, buf.String())
	}
}

type valuer struct{ pw string }

func (v valuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", "ann"), slog.String("password", v.pw))
}

func TestLogHandlerRedactsSecretAttributes(t *testing.T) {
	const s = "s3cr3t-value-never-logged"
	log, lines := jsonLog(t, slog.LevelDebug)
	log.With("client_secret", s).Debug("with attrs")
	log.Debug("attrs",
		slog.String("password", s), slog.String("Refresh-Token", s), slog.String("code", s),
		slog.Group("req", slog.String("access_token", s), slog.String("client_id", "app")),
		slog.Any("form", url.Values{"client_secret": {s}, "grant_type": {"refresh_token"}}),
		slog.Any("header", http.Header{"Authorization": {"Basic " + s}, "Accept": {"*/*"}}),
		slog.Any("valuer", valuer{pw: s}),
	)
	log.WithGroup("g").Debug("in group", slog.String("private_key_pem", s))

	var all strings.Builder
	for _, l := range lines() {
		b, _ := json.Marshal(l)
		all.Write(b)
	}
	out := all.String()
	if strings.Contains(out, s) {
		t.Fatalf("a secret got through: %s", out)
	}
	// What is not secret stays, so the line is still useful.
	for _, want := range []string{`"client_id":"app"`, `"grant_type":["refresh_token"]`, `"Accept":["*/*"]`, `"user":"ann"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lost %s: %s", want, out)
		}
	}
	if n := strings.Count(out, httpx.Redacted); n != 9 {
		t.Errorf("%d redactions, want 9: %s", n, out)
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "Client_Secret": true, "refresh-token": true, "code": true, "Authorization": true,
		"client_id": false, "error": false, "status": false, "request_id": false, "tenant": false,
	} {
		if got := httpx.IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}
