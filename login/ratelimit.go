package login

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/httpx"
)

// Failed password sign-ins are counted in fixed windows per account
// (tenant + lower-cased email) and per client IP, so that one attacker can
// neither guess one user's password nor spray one password over many
// users (OWASP Authentication Cheat Sheet, "Login Throttling"). Only
// failures count; a limit reached blocks even the right password until
// the window resets, so that a correct guess is not distinguishable.

// limit is one counter that a sign-in attempt is checked against.
type limit struct {
	name    string
	subject string
	max     int
}

func (h *Handler) signInLimits(r *http.Request, email string) []limit {
	return []limit{
		{name: "login-account", subject: strings.ToLower(email), max: h.cfg.MaxFailuresPerAccount},
		{name: "login-ip", subject: httpx.ClientIP(r), max: h.cfg.MaxFailuresPerIP},
	}
}

// limited reads the counters (delta 0) and reports whether any is at or
// over its maximum, and if so how long until the last of those resets.
func (h *Handler) limited(ctx context.Context, tenantID string, ls []limit) (bool, time.Duration, error) {
	var blocked bool
	var wait time.Duration
	for _, l := range ls {
		n, ttl, err := h.cfg.State.Hits(ctx, tenantID, l.name, l.subject, 0, h.cfg.FailureWindow)
		if err != nil {
			return false, 0, err
		}
		if n >= int64(l.max) {
			blocked = true
			wait = max(wait, ttl)
		}
	}
	return blocked, wait, nil
}

// recordFailure adds one failed attempt to every counter.
func (h *Handler) recordFailure(ctx context.Context, tenantID string, ls []limit) error {
	for _, l := range ls {
		if _, _, err := h.cfg.State.Hits(ctx, tenantID, l.name, l.subject, 1, h.cfg.FailureWindow); err != nil {
			return err
		}
	}
	return nil
}

// retryAfter is the Retry-After value (RFC 9110 §10.2.3) for wait: whole
// seconds, rounded up, at least 1.
func retryAfter(wait time.Duration) int {
	s := int((wait + time.Second - 1) / time.Second)
	return max(s, 1)
}

// retryAfterText says wait in words for the page.
func retryAfterText(wait time.Duration) string {
	m := (retryAfter(wait) + 59) / 60
	if m <= 1 {
		return "a minute"
	}
	return strconv.Itoa(m) + " minutes"
}
