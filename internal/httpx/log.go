package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// LogHandler wraps a slog.Handler so that every line logged with the
// context of a request names that request: it adds request_id (the ID the
// access line and the X-Request-Id response header carry) whenever ctx
// has one, so an operator can gather everything that happened to one
// request with a single search. Lines logged without such a context get
// nothing.
//
// As defence in depth it also redacts attributes whose key names a secret
// (password, client_secret, code, refresh_token, …) and the same keys
// inside url.Values and http.Header values: no code path should log them,
// and a mistake must not become a leak. This is a safety net, not a
// licence: the end-to-end suite checks the raw values never reach the log.
type LogHandler struct {
	// root is the wrapped handler with the attributes added before the
	// first group; request_id goes there, at the top level of the line.
	root slog.Handler
	// after is what WithGroup and WithAttrs did from the first group on,
	// replayed over root when a record needs request_id.
	after []groupOrAttrs
	// cur is root with after applied: what records without a request ID
	// (and Enabled) go to.
	cur slog.Handler
}

type groupOrAttrs struct {
	group string
	attrs []slog.Attr
}

// NewLogHandler returns h wrapped; h itself when it already is one, so
// that wrapping twice (cmd and server.New both do) adds request_id once.
func NewLogHandler(h slog.Handler) slog.Handler {
	if lh, ok := h.(*LogHandler); ok {
		return lh
	}
	return &LogHandler{root: h, cur: h}
}

// Enabled reports whether the wrapped handler handles level.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.cur.Enabled(ctx, level)
}

// Handle redacts secrets and adds request_id before passing r on.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redact(a))
		return true
	})
	id := RequestID(ctx)
	if id == "" {
		return h.cur.Handle(ctx, out)
	}
	if len(h.after) == 0 {
		out.AddAttrs(slog.String("request_id", id))
		return h.cur.Handle(ctx, out)
	}
	// Inside a group an added attribute would land in the group: rebuild
	// the chain with request_id at the top. Rare (nothing in orgid opens
	// groups on a logger), so the cost does not matter.
	next := h.root.WithAttrs([]slog.Attr{slog.String("request_id", id)})
	for _, g := range h.after {
		next = g.apply(next)
	}
	return next.Handle(ctx, out)
}

// WithAttrs returns a handler that adds attrs (redacted) to every line.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redact(a)
	}
	if len(h.after) == 0 {
		next := h.root.WithAttrs(red)
		return &LogHandler{root: next, cur: next}
	}
	g := groupOrAttrs{attrs: red}
	return &LogHandler{root: h.root, after: append(h.after[:len(h.after):len(h.after)], g), cur: g.apply(h.cur)}
}

// WithGroup returns a handler that puts later attributes in group name.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	g := groupOrAttrs{group: name}
	return &LogHandler{root: h.root, after: append(h.after[:len(h.after):len(h.after)], g), cur: g.apply(h.cur)}
}

func (g groupOrAttrs) apply(h slog.Handler) slog.Handler {
	if g.group != "" {
		return h.WithGroup(g.group)
	}
	return h.WithAttrs(g.attrs)
}

// Redacted replaces the value of an attribute that holds a secret.
const Redacted = "[REDACTED]"

// secretKeys are attribute, form-field and header names whose values are
// secrets (or bearer credentials) in OAuth 2.0, OpenID Connect and
// orgid's own pages and API. Compared lower-cased, with '-' as '_'.
var secretKeys = map[string]bool{
	"password": true, "new_password": true, "current_password": true, "old_password": true,
	"client_secret": true, "secret": true, "client_assertion": true, "assertion": true,
	"code": true, "authorization_code": true, "code_verifier": true, "device_code": true, "user_code": true,
	"access_token": true, "refresh_token": true, "id_token": true, "id_token_hint": true, "token": true,
	"subject_token": true, "actor_token": true, "identity_token": true,
	"totp_secret": true, "recovery_code": true, "recovery_codes": true,
	"private_key": true, "private_key_pem": true, "master_key": true, "csrf_token": true,
	"authorization": true, "proxy_authorization": true, "cookie": true, "set_cookie": true,
}

// IsSecretKey reports whether a value under key is redacted.
func IsSecretKey(key string) bool {
	return secretKeys[strings.ReplaceAll(strings.ToLower(key), "-", "_")]
}

// redact returns a with its value replaced when its key names a secret,
// and with secret entries of groups, url.Values and http.Header replaced.
func redact(a slog.Attr) slog.Attr {
	if IsSecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = redact(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case url.Values:
			return slog.Any(a.Key, redactValues(x))
		case http.Header:
			return slog.Any(a.Key, http.Header(redactValues(url.Values(x))))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactValues returns a copy of vs with the values of secret keys replaced.
func redactValues(vs map[string][]string) url.Values {
	out := make(url.Values, len(vs))
	for k, v := range vs {
		if IsSecretKey(k) {
			out[k] = []string{Redacted}
			continue
		}
		out[k] = v
	}
	return out
}
