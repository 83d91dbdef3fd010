package server_test

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain silences the default logger, which zitadel/oidc writes route
// registrations and request errors to; orgid's own logs go to each test's
// logger (env.logs), where tests read them.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
