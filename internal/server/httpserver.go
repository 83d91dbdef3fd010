package server

import (
	"log/slog"
	"net/http"

	"github.com/orgid/orgid/internal/config"
)

// NewHTTPServer returns the http.Server that serves h, with every
// connection-level limit in one place: slow clients are cut off
// (ReadHeaderTimeout against slowloris, ReadTimeout for bodies), stuck
// responses end (WriteTimeout), idle keep-alives close (IdleTimeout), and
// oversized headers get 431 (MaxHeaderBytes). Over https every response
// also carries Strict-Transport-Security. Request bodies are capped by the
// handlers (op, adminapi, login), which know their own limits.
func NewHTTPServer(h http.Handler, cfg config.Config, log *slog.Logger) *http.Server {
	if cfg.Secure() {
		h = hsts(h)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// hstsValue pins browsers to https for a year, subdomains included
// (RFC 6797 §6.1). Only sent when the external URL is https: over http a
// browser ignores it (§8.1), and a test or local setup must not be pinned.
const hstsValue = "max-age=31536000; includeSubDomains"

func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}
