package op

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/orgid/orgid/storage"
)

// identityAlgs are the algorithms of identity tokens (DESIGN §3): the
// algorithms of authentication keys. none and the HMAC algorithms are
// never accepted — an HMAC "signature" keyed with the public key would be
// forgeable by anyone (RFC 8725 §3.1, §2.1).
var identityAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

const (
	// identityMaxLifetime is the most an identity token may live, exp − iat.
	identityMaxLifetime = 10 * time.Minute
	// identityLeeway tolerates an identity service whose clock runs a
	// little ahead (iat); exp is checked strictly.
	identityLeeway = 30 * time.Second
	// maxAssertionLen bounds the work spent on an assertion.
	maxAssertionLen = 16 << 10
)

// identityClaims are the claims of an identity token, with Layer's names
// (prn, nce, display_name, first_name, last_name) beside the standard ones.
type identityClaims struct {
	Issuer        string           `json:"iss"`
	Subject       string           `json:"sub"`
	Principal     string           `json:"prn"`
	Nonce         string           `json:"nonce"`
	Nce           string           `json:"nce"`
	Audience      jwt.Audience     `json:"aud"`
	Expiry        *jwt.NumericDate `json:"exp"`
	IssuedAt      *jwt.NumericDate `json:"iat"`
	Email         string           `json:"email"`
	EmailVerified *bool            `json:"email_verified"`
	Name          string           `json:"name"`
	DisplayName   string           `json:"display_name"`
	FirstName     string           `json:"first_name"`
	LastName      string           `json:"last_name"`
	Picture       string           `json:"picture"`
}

// identityAssertion is a verified identity token, before its nonce is used.
type identityAssertion struct {
	key     storage.AuthKey
	org     storage.Organization
	subject string
	nonce   string
	claims  identityClaims
}

// profileName is the user's name from the standard claim or Layer's.
func (c *identityClaims) profileName() string {
	switch {
	case c.Name != "":
		return c.Name
	case c.DisplayName != "":
		return c.DisplayName
	}
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// authKeyLookup finds an authentication key by kid with its organization.
type authKeyLookup func(ctx context.Context, kid string) (storage.AuthKey, storage.Organization, error)

// refuse is the answer to an identity token that fails a check: 400
// invalid_grant (RFC 7523 §3.1) naming the check, never the token.
func refuse(description string) error {
	return oidc.ErrInvalidGrant().WithDescription("%s", description)
}

// joseHeader is the part of a JWS header read before go-jose parses the
// token, so that a refused algorithm gets its own answer.
type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	Cty string `json:"cty"`
}

// verifyIdentityAssertion runs every check of an identity token but the
// nonce's (DESIGN §3): algorithm, key, signature, issuer, subject and
// times. Errors of the lookup other than ErrNotFound come back unchanged
// (for oauthError); every refusal is invalid_grant.
func verifyIdentityAssertion(ctx context.Context, raw, issuer string, now time.Time, lookup authKeyLookup) (*identityAssertion, error) {
	if len(raw) > maxAssertionLen {
		return nil, refuse("assertion is too large")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, refuse("assertion is not a signed JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	var h joseHeader
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return nil, refuse("assertion header is malformed")
	}
	if !slices.Contains(identityAlgs, jose.SignatureAlgorithm(h.Alg)) {
		return nil, refuse("algorithm not allowed")
	}
	// typ JWT (RFC 7519 §5.1) or Layer's JWS, with Layer's cty; anything
	// else (an access token, at+jwt) is another kind of token.
	if typ := strings.ToUpper(h.Typ); typ != "" && typ != "JWT" && typ != "JWS" {
		return nil, refuse("token type not accepted")
	}
	if h.Cty != "" && h.Cty != "layer-eit;v=1" {
		return nil, refuse("content type not accepted")
	}
	if h.Kid == "" {
		return nil, refuse("missing kid")
	}
	tok, err := jwt.ParseSigned(raw, identityAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, refuse("assertion is malformed")
	}
	key, org, err := lookup(ctx, h.Kid)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, refuse("unknown kid")
	}
	if err != nil {
		return nil, err
	}
	if key.Status != storage.AuthKeyActive {
		return nil, refuse("key revoked")
	}
	if h.Alg != key.Alg {
		return nil, refuse("algorithm is not the key's")
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(key.PublicJWK); err != nil || !jwk.IsPublic() {
		return nil, errors.New("op: auth key " + key.KID + " has no usable public key")
	}
	var c identityClaims
	if err := tok.Claims(jwk.Key, &c); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, refuse("bad signature")
		}
		return nil, refuse("claims are malformed")
	}
	if c.Issuer != org.ProviderID || org.ProviderID == "" {
		return nil, refuse("wrong issuer")
	}
	a := &identityAssertion{key: key, org: org, claims: c, subject: c.Subject, nonce: c.Nonce}
	if a.subject == "" {
		a.subject = c.Principal
	}
	if a.subject == "" {
		return nil, refuse("missing sub")
	}
	if a.nonce == "" {
		a.nonce = c.Nce
	}
	if c.Expiry == nil {
		return nil, refuse("missing exp")
	}
	if c.IssuedAt == nil {
		return nil, refuse("missing iat")
	}
	exp, iat := c.Expiry.Time(), c.IssuedAt.Time()
	if !now.Before(exp) {
		return nil, refuse("expired")
	}
	if iat.After(now.Add(identityLeeway)) {
		return nil, refuse("issued in the future")
	}
	if exp.Sub(iat) > identityMaxLifetime {
		return nil, refuse("lifetime too long")
	}
	if len(c.Audience) > 0 && !c.Audience.Contains(issuer) {
		return nil, refuse("wrong audience")
	}
	if a.nonce == "" {
		return nil, refuse("missing nonce")
	}
	return a, nil
}
