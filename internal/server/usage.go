package server

import (
	"context"
	"time"

	"github.com/orgid/orgid/internal/usage"
)

// startUsage starts counting usage for billing: op records each token in
// the returned recorder, and a batcher writes the counts to the store
// every ORGID_USAGE_FLUSH_INTERVAL and once more when the server closes
// (before the stores do: closers run last-in first-out).
func (s *Server) startUsage() *usage.Recorder {
	rec := usage.NewRecorder()
	s.usage = usage.NewBatcher(rec, s.Store, s.log)
	interval := s.Config.UsageFlushInterval
	if interval <= 0 {
		interval = usage.DefaultFlushInterval
	}
	ticker := time.NewTicker(interval)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.usage.Run(ctx, ticker.C)
	}()
	s.closers = append(s.closers, func() error { ticker.Stop(); cancel(); <-done; return nil })
	return rec
}

// FlushUsage writes the usage counted so far to the store now, as the
// batcher does every ORGID_USAGE_FLUSH_INTERVAL (tests need not wait).
func (s *Server) FlushUsage(ctx context.Context) error {
	if s.usage == nil {
		return nil
	}
	return s.usage.Flush(ctx)
}
