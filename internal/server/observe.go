package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/metrics"
	"github.com/orgid/orgid/internal/secure"
)

// requestIDRE is what a caller's X-Request-Id may be: short and plain, as
// it lands in logs, the audit log and problem bodies.
var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:/+=-]{1,128}$`)

// observe is the outermost middleware. It gives every request an ID (the
// caller's X-Request-Id when sane, a new one otherwise, echoed back) and
// an *httpx.Info that handlers fill in, and once the response is done it
// records the request's metrics and writes its one access line.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // a measurement, not logic: the real clock
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			id = secure.ID("req")
		}
		w.Header().Set("X-Request-Id", id)
		info := &httpx.Info{RequestID: id, ClientIP: httpx.ResolveClientIP(r, s.Config.TrustedProxies)}
		rec := &recorder{ResponseWriter: w}
		ctx := httpx.WithInfo(r.Context(), info)
		panicked := true
		defer func() {
			// A handler that panicked still gets its line and its count,
			// as a 500: net/http logs the panic and drops the connection.
			if panicked {
				s.finish(r, info, rec, start, true)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
		panicked = false
		s.finish(r, info, rec, start, false)
	})
}

// finish records the metrics of a finished request and writes its access
// line.
func (s *Server) finish(r *http.Request, info *httpx.Info, rec *recorder, start time.Time, panicked bool) {
	d := time.Since(start)
	id := info.RequestID
	status := rec.status
	switch {
	case panicked:
		status = http.StatusInternalServerError
	case status == 0:
		status = http.StatusOK // nothing written: net/http answers 200
	}
	if code := rec.refusal(); code != "" && info.Snapshot().Error == "" {
		info.SetError(code)
	}
	snap := info.Snapshot()
	s.Metrics.Request(snap, r.Method, status, d)

	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case quietRoutes[snap.Route]:
		level = slog.LevelDebug
	}
	// The line is logged with the request's own context, which holds
	// no Info: request_id is one of its attributes already, and a log
	// handler that adds it from the context must not add it twice.
	lctx := r.Context()
	if !s.log.Enabled(lctx, level) {
		return
	}
	route := snap.Route
	if route == "" {
		route = metrics.UnmatchedRoute
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("request_id", id),
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("tenant", snap.Tenant),
		slog.String("client_id", snap.ClientID),
		slog.String("client_ip", info.ClientIP),
	)
	if snap.Error != "" {
		attrs = append(attrs, slog.String("error", snap.Error))
	}
	if snap.Cause != nil {
		attrs = append(attrs, slog.String("cause", snap.Cause.Error()))
	}
	s.log.LogAttrs(lctx, level, "request", attrs...)
}

// quietRoutes are polled by load balancers and Prometheus: their access
// lines are debug, so they do not drown the requests that matter.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// routeTemplate records the template of the mux route that matched. It
// runs only for matched routes; a request nothing matched keeps no route
// and is counted as metrics.UnmatchedRoute.
func routeTemplate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := mux.CurrentRoute(r); route != nil {
			if tpl, err := route.GetPathTemplate(); err == nil {
				httpx.RequestInfo(r.Context()).SetRoute(tpl)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// recorder remembers the status of a response and, for refusals, the
// start of the body, so that refusals written by zitadel/oidc (which
// reports nothing to orgid) are counted by their error code too.
type recorder struct {
	http.ResponseWriter
	status int
	// body keeps up to sniffLimit bytes of a JSON error response.
	body  []byte
	sniff bool
}

// sniffLimit is enough for any OAuth error or problem object's leading
// members; a longer body is cut, and then not parsed.
const sniffLimit = 1024

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.status = code
		ct := rec.Header().Get("Content-Type")
		rec.sniff = code >= 400 && strings.Contains(ct, "json")
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.sniff && len(rec.body) < sniffLimit {
		rec.body = append(rec.body, b[:min(len(b), sniffLimit-len(rec.body))]...)
	}
	return rec.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer
// (Flush, deadlines, Hijack).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// Flush keeps the recorder an http.Flusher for code that asserts it.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

// refusal returns the error code the response carries: the "error"
// member of an OAuth error (RFC 6749 §5.2), the last part of an orgid
// problem type (RFC 9457), or the error parameter of a redirect back to
// a client (RFC 6749 §4.1.2.1). Codes outside the known OAuth set become
// "other", so a label can never be made to hold something else.
func (rec *recorder) refusal() string {
	switch {
	case rec.sniff && len(rec.body) > 0:
		var b struct {
			Error string `json:"error"`
			Type  string `json:"type"`
		}
		if json.Unmarshal(bytes.TrimSpace(rec.body), &b) != nil {
			return ""
		}
		if b.Error != "" {
			return knownOr(b.Error)
		}
		if code, ok := strings.CutPrefix(b.Type, problemTypePrefix); ok {
			return metrics.ErrorLabel(code)
		}
	case rec.status == http.StatusFound || rec.status == http.StatusSeeOther:
		loc := rec.Header().Get("Location")
		if !strings.Contains(loc, "error=") {
			return ""
		}
		u, err := url.Parse(loc)
		if err != nil {
			return ""
		}
		code := u.Query().Get("error")
		if code == "" {
			if f, err := url.ParseQuery(u.Fragment); err == nil {
				code = f.Get("error")
			}
		}
		if code != "" {
			return knownOr(code)
		}
	}
	return ""
}

// problemTypePrefix starts the type of every problem the API answers
// with (internal/adminapi).
const problemTypePrefix = "urn:orgid:problem:"

func knownOr(code string) string {
	if metrics.KnownErrors[code] {
		return code
	}
	return "other"
}
