package op

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
)

// accessClaims are the claims of an access token (RFC 9068 §2.2).
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	JWTID    string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	// An organization token (DESIGN §3) names its organization and the
	// subject's role names there.
	OrganizationID    string   `json:"organization_id,omitempty"`
	OrganizationRoles []string `json:"organization_roles,omitempty"`
}

// grantID returns the grant an access token belongs to: the part of its
// jti before the dot (empty for tokens outside a grant).
func (c *accessClaims) grantID() string {
	g, _, ok := strings.Cut(c.JWTID, ".")
	if !ok {
		return ""
	}
	return g
}

// idClaims are the claims of an ID token (OIDC Core §2, §3.1.3.6).
type idClaims struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        []string `json:"aud"`
	Expiry          int64    `json:"exp"`
	IssuedAt        int64    `json:"iat"`
	AuthTime        int64    `json:"auth_time,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	ACR             string   `json:"acr,omitempty"`
	AMR             []string `json:"amr,omitempty"`
	AuthorizedParty string   `json:"azp"`
	AccessTokenHash string   `json:"at_hash,omitempty"`
	// OrganizationID names the organization of an organization= sign-in.
	OrganizationID string `json:"organization_id,omitempty"`
	userClaims
	orgClaims
}

// userClaims are the claims the profile and email scopes release (OIDC Core §5.4).
type userClaims struct {
	Name          string `json:"name,omitempty"`
	UpdatedAt     int64  `json:"updated_at,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

func claimsFor(u storage.User, scopes []string) userClaims {
	var c userClaims
	if slices.Contains(scopes, oidc.ScopeProfile) {
		c.Name = u.Name
		c.UpdatedAt = u.UpdatedAt.Unix()
	}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		c.Email = u.Email
		v := u.EmailVerified
		c.EmailVerified = &v
	}
	return c
}

// issueRequest is everything needed to answer a token request for a user.
type issueRequest struct {
	// grantType names the grant in the tokens-issued metric.
	grantType oidc.GrantType
	client    *client
	grant     storage.Grant
	// scopes of this response; on a refresh they may be narrower than the grant's.
	scopes []string
	nonce  string
	// refresh, when set, is the grant's refresh token being rotated; with
	// startRefresh a first refresh token is created instead.
	refresh      *storage.RefreshToken
	startRefresh bool
	// user, when known already, spares the ID token a read of the user.
	user *storage.User
	// org, when set, makes the access token an organization token.
	org *orgTarget
	// idToken: with openid, answer with an ID token too. Organization
	// token requests (refresh with organization_id, token exchange) do not.
	idToken bool
}

// issue mints the access token, the ID token and the refresh token of a
// user grant, and answers with no-store (set by protocolHeaders).
func (p *Provider) issue(ctx context.Context, req issueRequest) (*zop.Response, error) {
	tenant := tenantID(ctx)
	issuer := p.Issuer(tenant)
	now := p.now()
	g := req.grant

	claims := &accessClaims{
		Issuer:   issuer,
		Subject:  g.UserID,
		Audience: g.Audience,
		Expiry:   now.Add(p.cfg.AccessTokenTTL).Unix(),
		IssuedAt: now.Unix(),
		JWTID:    g.ID + "." + secure.ID(""),
		ClientID: g.ClientID,
		Scope:    strings.Join(req.scopes, " "),
		AuthTime: unixOrZero(g.AuthTime),
		ACR:      g.ACR,
		AMR:      g.AMR,
	}
	granted := req.scopes
	if req.org != nil {
		access, err := p.memberAccess(ctx, tenant, req.org.id, g.UserID, g.AMR)
		if err != nil {
			return nil, err
		}
		granted = req.org.grant(access.Permissions)
		claims.Audience = []string{req.org.audience()}
		claims.Scope = strings.Join(granted, " ")
		claims.OrganizationID = access.Organization.ID
		claims.OrganizationRoles = access.Roles
	}
	at, err := p.signJSON(ctx, tenant, p.cfg.AccessTokenAlg, keys.TypeAccessToken, claims)
	if err != nil {
		return nil, err
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: at,
		TokenType:   oidc.BearerToken,
		ExpiresIn:   uint64(p.cfg.AccessTokenTTL / time.Second),
		Scope:       granted,
	}

	if req.refresh != nil || req.startRefresh {
		token := newRefreshToken(g.ID)
		hash, expires := secure.Hash(token), now.Add(p.cfg.RefreshTokenTTL)
		if req.refresh != nil {
			err = p.cfg.Store.RotateRefreshToken(ctx, tenant, req.refresh.TokenHash, req.refresh.Rotated(hash, now, expires))
		} else {
			err = p.cfg.Store.CreateRefreshToken(ctx, storage.RefreshToken{
				TenantID: tenant, TokenHash: hash, Grant: g, CreatedAt: now, ExpiresAt: expires,
			})
		}
		if err != nil {
			return nil, err
		}
		resp.RefreshToken = token
	}

	if req.idToken && slices.Contains(req.scopes, oidc.ScopeOpenID) {
		u, err := p.grantUser(ctx, tenant, req)
		if err != nil {
			return nil, err
		}
		oc, err := p.organizationClaims(ctx, tenant, g.UserID, req.scopes, true)
		if err != nil {
			return nil, err
		}
		alg := req.client.idTokenAlg()
		atHash, err := oidc.ClaimHash(at, jose.SignatureAlgorithm(alg))
		if err != nil {
			return nil, err
		}
		resp.IDToken, err = p.signJSON(ctx, tenant, alg, keys.TypeJWT, &idClaims{
			Issuer:          issuer,
			Subject:         g.UserID,
			Audience:        []string{g.ClientID},
			Expiry:          now.Add(p.cfg.IDTokenTTL).Unix(),
			IssuedAt:        now.Unix(),
			AuthTime:        unixOrZero(g.AuthTime),
			Nonce:           req.nonce,
			ACR:             g.ACR,
			AMR:             g.AMR,
			AuthorizedParty: g.ClientID,
			AccessTokenHash: atHash,
			OrganizationID:  g.OrganizationID,
			userClaims:      claimsFor(u, req.scopes),
			orgClaims:       oc,
		})
		if err != nil {
			return nil, err
		}
	}
	kind := kindUser
	if req.org != nil {
		kind = kindOrganization
	}
	p.metrics.TokenIssued(tenant, string(req.grantType), kind)
	p.usage.Token(tenant, usageOrganization(claims.OrganizationID, g.OrganizationID, req.client.app.OrganizationID), g.ClientID, g.UserID, now)
	return zop.NewResponse(resp), nil
}

// usageOrganization is the organization a token counts for in billing:
// the first of the organization the token is for, the one its grant is
// bound to, and the one that owns its application; "" (the tenant level)
// when there is none.
func usageOrganization(orgIDs ...string) string {
	for _, id := range orgIDs {
		if id != "" {
			return id
		}
	}
	return ""
}

// grantUser is the user whose claims the ID token carries.
func (p *Provider) grantUser(ctx context.Context, tenant string, req issueRequest) (storage.User, error) {
	if req.user != nil {
		return *req.user, nil
	}
	u, err := p.cfg.Store.GetUser(ctx, tenant, req.grant.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, errUserGone
	}
	return u, err
}

// errUserGone refuses a grant whose user was deleted.
var errUserGone = oidc.ErrInvalidGrant().WithDescription("the user no longer exists")

// signJSON signs claims with the tenant's active key for alg.
func (p *Provider) signJSON(ctx context.Context, tenant, alg, typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	s, err := p.cfg.Keys.Signer(ctx, tenant, alg)
	if err != nil {
		return "", err
	}
	return s.Sign(payload, typ)
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// A refresh token is "{grant ID}.{256-bit secret}": the grant ID finds the
// grant's one row, and the secret's SHA-256 must match its current hash
// (compared in constant time). The grant ID is no secret — it also starts
// the jti of the grant's access tokens.
func newRefreshToken(grantID string) string { return grantID + "." + secure.Token() }

// refreshGrantID returns the grant a refresh token names, or "".
func refreshGrantID(token string) string {
	g, secret, ok := strings.Cut(token, ".")
	if !ok || g == "" || secret == "" {
		return ""
	}
	return g
}

// refreshMatch says how a presented refresh token relates to a grant's row.
type refreshMatch int

const (
	refreshUnknown refreshMatch = iota // not this grant's token
	refreshCurrent                     // the token to rotate
	refreshRotated                     // rotated out already: reuse
)

func matchRefresh(rt storage.RefreshToken, token string) refreshMatch {
	h := secure.Hash(token)
	if secure.Equal(h, rt.TokenHash) {
		return refreshCurrent
	}
	for _, prev := range rt.PreviousHashes {
		if secure.Equal(h, prev) {
			return refreshRotated
		}
	}
	return refreshUnknown
}
