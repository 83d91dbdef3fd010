package op

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/orgid/orgid/storage"
)

// private_key_jwt (OIDC Core §9, RFC 7523 §2.2 and §3): a client whose
// application has a JWKS authenticates with a JWT it signs with one of its
// keys, instead of a secret.

// assertionAlgs are the algorithms a client assertion may be signed with.
// Never none, and never HMAC: a MAC key would turn the public JWKS into a
// shared secret.
var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA}

const (
	// maxAssertionBytes bounds what is parsed before anything is known.
	maxAssertionBytes = 8 << 10
	// maxAssertionLifetime: RFC 7523 §3 lets the server limit how far in
	// the future exp may be; five minutes keeps the jti records short-lived.
	maxAssertionLifetime = 5 * time.Minute
	// assertionLeeway forgives a client clock slightly ahead of ours for
	// iat and nbf (RFC 7523 §3, items 5 and 6, allow "reasonable" skew).
	assertionLeeway = 30 * time.Second
	maxJTIBytes     = 256
)

// clientAssertion is a client_assertion parsed but not yet verified: it
// names the client whose keys must verify it.
type clientAssertion struct {
	tok      *jwt.JSONWebToken
	clientID string
}

// errBadAssertion is any assertion that cannot be read; the client gets
// the one answer of every failed authentication.
var errBadAssertion = errors.New("client assertion is malformed")

// parseClientAssertion reads the JWS and its issuer, which must equal its
// subject: both are the client ID (RFC 7523 §3, items 1 and 2).
func parseClientAssertion(raw string) (*clientAssertion, error) {
	if len(raw) > maxAssertionBytes {
		return nil, errBadAssertion
	}
	tok, err := jwt.ParseSigned(raw, assertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, errBadAssertion
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, errBadAssertion
	}
	if c.Issuer == "" || c.Subject != c.Issuer {
		return nil, errBadAssertion
	}
	return &clientAssertion{tok: tok, clientID: c.Issuer}, nil
}

// verifyClientAssertion checks a client assertion against the client's
// JWKS and the claims RFC 7523 §3 requires, then spends its jti, so that
// the same assertion never authenticates twice. audiences are the values
// of aud that name this authorization server. A failure is 401
// invalid_client; the description says which check failed only once the
// signature has proved the caller holds the client's key.
func (p *Provider) verifyClientAssertion(ctx context.Context, tenant string, c *client, a *clientAssertion, audiences []string) error {
	fail := func(reason string) error {
		p.log.DebugContext(ctx, "client assertion refused", slog.String("client_id", c.app.ClientID), slog.String("reason", reason))
		return clientError("client authentication failed")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(c.app.JWKS, &set); err != nil {
		p.log.ErrorContext(ctx, "application JWKS is not a JWK Set", slog.String("client_id", c.app.ClientID), slog.Any("error", err))
		return fail("stored JWKS unreadable")
	}
	h := a.tok.Headers[0]
	var claims jwt.Claims
	verified := false
	for _, k := range set.Keys {
		if h.KeyID != "" && k.KeyID != h.KeyID || k.Use != "" && k.Use != "sig" || k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		pub := k.Public() // never verify with a private or symmetric key
		if pub.Key == nil {
			continue
		}
		if err := a.tok.Claims(pub.Key, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return fail("no key of the client verifies the signature")
	}

	now := p.now()
	switch {
	case claims.Issuer != c.app.ClientID || claims.Subject != c.app.ClientID:
		return fail("iss and sub must be the client ID")
	case !slices.ContainsFunc(audiences, func(aud string) bool { return claims.Audience.Contains(aud) }):
		return clientError("client assertion audience must be the issuer or the token endpoint")
	case claims.Expiry == nil:
		return clientError("client assertion has no exp")
	case !now.Before(claims.Expiry.Time()):
		return clientError("client assertion has expired")
	case claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(assertionLeeway)):
		return clientError("client assertion is not valid yet")
	case claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return clientError("client assertion is issued in the future")
	case claims.ID == "" || len(claims.ID) > maxJTIBytes:
		return clientError("client assertion needs a jti")
	}
	from := now
	if claims.IssuedAt != nil {
		from = claims.IssuedAt.Time()
	}
	if claims.Expiry.Time().Sub(from) > maxAssertionLifetime {
		return clientError("client assertion lifetime is longer than 5 minutes")
	}
	// The jti is remembered until the assertion expires: after that the
	// assertion is refused for its exp anyway.
	ttl := claims.Expiry.Time().Sub(now).Truncate(time.Second) + time.Second
	err := p.cfg.State.UseAssertionID(ctx, tenant, c.app.ClientID, claims.ID, ttl)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return clientError("client assertion was already used")
	}
	if err != nil {
		return p.oauthError(ctx, err, "record client assertion")
	}
	return nil
}

// assertionAudiences are the aud values that name this server in a
// client assertion of tenant: its issuer (RFC 7523 §3, item 3) and the
// endpoints that authenticate clients.
func (p *Provider) assertionAudiences(tenant string) []string {
	iss := p.Issuer(tenant)
	return []string{iss, endpoints.Token.Absolute(iss), endpoints.Introspection.Absolute(iss), endpoints.Revocation.Absolute(iss)}
}

// clientAuthAlgs are the assertion algorithms discovery advertises.
func clientAuthAlgs() []string {
	out := make([]string, len(assertionAlgs))
	for i, a := range assertionAlgs {
		out[i] = string(a)
	}
	return out
}
