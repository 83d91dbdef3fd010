package op

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
)

// accessTokenAlgs are the algorithms an orgid access token may carry.
var accessTokenAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}

// errBadToken is any reason an access token is not (or no longer) good.
// Callers answer invalid_token / active:false without saying which.
var errBadToken = errors.New("op: access token is invalid")

// verifyAccessToken checks an access token the way a resource server
// would (RFC 9068 §4): typ at+jwt, a signature by a key of this tenant with
// the algorithm in the key's own JWK, this tenant's issuer, not expired —
// and, which a resource server cannot know, not revoked. A token of
// another tenant fails both the key lookup and the issuer check.
func (p *Provider) verifyAccessToken(ctx context.Context, tenant, token string) (*accessClaims, error) {
	jws, err := jose.ParseSigned(token, accessTokenAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errBadToken
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != keys.TypeAccessToken {
		return nil, errBadToken
	}
	key, err := p.cfg.Keys.PublicKey(ctx, tenant, h.KeyID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if key.Algorithm != h.Algorithm {
		return nil, errBadToken
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, errBadToken
	}
	c := new(accessClaims)
	if err := json.Unmarshal(payload, c); err != nil {
		return nil, errBadToken
	}
	if c.Issuer != p.Issuer(tenant) || c.JWTID == "" || p.now().Unix() >= c.Expiry {
		return nil, errBadToken
	}
	ids := []string{c.JWTID}
	if g := c.grantID(); g != "" {
		ids = append(ids, g)
	}
	revoked, err := p.cfg.Store.IsRevoked(ctx, tenant, ids...)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errBadToken
	}
	return c, nil
}

// ErrInvalidToken means an access token is invalid, expired, revoked or
// of another tenant.
var ErrInvalidToken = errBadToken

// AccessToken is a verified access token, for orgid's own APIs.
type AccessToken struct {
	Subject           string
	ClientID          string
	Audience          []string
	Scopes            []string
	OrganizationID    string
	OrganizationRoles []string
	Expiry            time.Time
}

// VerifyAccessToken checks an access token of tenantID as userinfo does
// (signature, typ, issuer, expiry, revocation). Errors other than
// ErrInvalidToken are the store's.
func (p *Provider) VerifyAccessToken(ctx context.Context, tenantID, token string) (*AccessToken, error) {
	c, err := p.verifyAccessToken(ctx, tenantID, token)
	if err != nil {
		return nil, err
	}
	return &AccessToken{
		Subject:           c.Subject,
		ClientID:          c.ClientID,
		Audience:          c.Audience,
		Scopes:            strings.Fields(c.Scope),
		OrganizationID:    c.OrganizationID,
		OrganizationRoles: c.OrganizationRoles,
		Expiry:            time.Unix(c.Expiry, 0),
	}, nil
}
