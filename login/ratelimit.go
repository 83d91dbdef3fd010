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

// limit is one counter that an attempt is checked against.
type limit struct {
	name    string
	subject string
	max     int
	// window is the counter's fixed window; Config.FailureWindow when zero.
	window time.Duration
}

func (h *Handler) window(l limit) time.Duration {
	if l.window > 0 {
		return l.window
	}
	return h.cfg.FailureWindow
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
		n, ttl, err := h.cfg.State.Hits(ctx, tenantID, l.name, l.subject, 0, h.window(l))
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
	return h.hit(ctx, tenantID, ls)
}

// hit adds one to every counter.
func (h *Handler) hit(ctx context.Context, tenantID string, ls []limit) error {
	for _, l := range ls {
		if _, _, err := h.cfg.State.Hits(ctx, tenantID, l.name, l.subject, 1, h.window(l)); err != nil {
			return err
		}
	}
	return nil
}

// spend is limited followed, when no limit is reached, by one hit on
// every counter: for actions that count every use (mail sent), not only
// failures. It reports whether the action is blocked and for how long.
func (h *Handler) spend(ctx context.Context, tenantID string, ls []limit) (bool, time.Duration, error) {
	blocked, wait, err := h.limited(ctx, tenantID, ls)
	if err != nil || blocked {
		return blocked, wait, err
	}
	return false, 0, h.hit(ctx, tenantID, ls)
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
	switch {
	case m <= 1:
		return "a minute"
	case m <= 90:
		return strconv.Itoa(m) + " minutes"
	}
	hrs := (m + 59) / 60
	return strconv.Itoa(hrs) + " hours"
}
