package adminapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Verifier checks the access tokens of a tenant. internal/server adapts
// the OpenID Provider's verification to it, so this package needs no
// protocol code.
type Verifier interface {
	// Verify checks signature, type, issuer, expiry and revocation of an
	// access token of tenantID. ErrInvalidToken when the token is not good
	// (any reason, another tenant's included); other errors are the
	// store's.
	Verify(ctx context.Context, tenantID, raw string) (Token, error)
}

// ErrInvalidToken is a token that is invalid, expired, revoked or of
// another tenant.
var ErrInvalidToken = errors.New("adminapi: invalid access token")

// Token is a verified access token.
type Token struct {
	Subject        string
	ClientID       string
	Audience       []string
	Scopes         []string
	OrganizationID string
}

// ScopeManagement is the scope a management API token holds.
const ScopeManagement = "management"

// RFC 6750 §3 challenges.
const (
	challenge             = `Bearer realm="orgid"`
	challengeInvalidToken = `Bearer realm="orgid", error="invalid_token"`
)

func insufficientScope(scope string) string {
	return `Bearer realm="orgid", error="insufficient_scope", scope="` + scope + `"`
}

// bearer returns the request's bearer token (RFC 6750 §2.1); "" when it
// has none.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// verify authenticates the request: 401 without a token or with one that
// is not good.
func (h *Handler) verify(r *http.Request, tenant string) (Token, error) {
	raw := bearer(r)
	if raw == "" {
		e := newError(http.StatusUnauthorized, "unauthorized", "send an access token: Authorization: Bearer <token>")
		e.header = challenge
		return Token{}, e
	}
	tok, err := h.cfg.Verifier.Verify(r.Context(), tenant, raw)
	if errors.Is(err, ErrInvalidToken) {
		return Token{}, invalidToken("the access token is invalid, expired, revoked or for another tenant")
	}
	return tok, err
}

func invalidToken(detail string) *apiError {
	e := newError(http.StatusUnauthorized, "invalid-token", detail)
	e.header = challengeInvalidToken
	return e
}

// hasAll reports whether have holds every one of want.
func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
