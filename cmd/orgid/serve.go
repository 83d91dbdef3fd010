package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/orgid/orgid/internal/server"
)

// serve runs orgid until SIGINT or SIGTERM, then lets in-flight requests
// finish (up to the shutdown timeout) and returns nil, so the exit code is 0.
func (e env) serve(args []string) error {
	cfg, err := e.parse("serve", nil, args, nil)
	if err != nil {
		return err
	}
	log := e.logger(cfg)
	slog.SetDefault(log) // zitadel/oidc logs through the default logger
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	srv, err := server.New(e.ctx, server.Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := server.NewHTTPServer(srv.Handler, cfg, log)
	log.Info("orgid serving", slog.String("addr", ln.Addr().String()),
		slog.String("issuer", cfg.ExternalURL+"/t/default"), slog.String("version", version))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-e.ctx.Done():
	}
	if e.stopSignals != nil {
		e.stopSignals()
	}
	log.Info("shutting down: finishing in-flight requests", slog.Duration("timeout", cfg.ShutdownTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
