package op

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// Introspect answers RFC 7662 for access and refresh tokens. The caller
// must be a confidential client of this tenant, and it only learns about
// tokens issued to it or meant for it (RFC 7662 §4: the server decides
// which tokens a caller may introspect); for every other token, and for
// anything invalid, expired or revoked, the answer is {"active": false}.
func (s *server) Introspect(ctx context.Context, r *zop.Request[zop.IntrospectionRequest]) (*zop.Response, error) {
	p := s.p
	caller, err := s.VerifyClient(ctx, &zop.Request[zop.ClientCredentials]{Data: r.Data.ClientCredentials})
	if err != nil {
		return nil, err
	}
	if caller.AuthMethod() == oidc.AuthMethodNone {
		return nil, clientError("public clients cannot introspect tokens")
	}
	tenant := tenantID(ctx)
	token := r.Data.Token
	resp := &oidc.IntrospectionResponse{}

	if strings.Count(token, ".") == 2 {
		c, err := p.verifyAccessToken(ctx, tenant, token)
		if err != nil && !errors.Is(err, errBadToken) {
			return nil, p.oauthError(ctx, err, "verify access token")
		}
		if err == nil && (c.ClientID == caller.GetID() || slices.Contains(c.Audience, caller.GetID())) {
			resp.Active = true
			resp.TokenType = "access_token"
			resp.Scope = strings.Fields(c.Scope)
			resp.ClientID = c.ClientID
			resp.Subject = c.Subject
			resp.Audience = c.Audience
			resp.Issuer = c.Issuer
			resp.JWTID = c.JWTID
			resp.Expiration = oidc.FromTime(unixTime(c.Expiry))
			resp.IssuedAt = oidc.FromTime(unixTime(c.IssuedAt))
			if c.AuthTime != 0 {
				resp.AuthTime = oidc.FromTime(unixTime(c.AuthTime))
			}
			resp.AuthenticationMethodsReferences = c.AMR
		}
		return zop.NewResponse(resp), nil
	}

	rt, match, err := p.findRefresh(ctx, tenant, token)
	if err != nil {
		return nil, p.oauthError(ctx, err, "load refresh token")
	}
	if match == refreshCurrent && p.now().Before(rt.ExpiresAt) && rt.Grant.ClientID == caller.GetID() {
		resp.Active = true
		resp.TokenType = "refresh_token"
		resp.Scope = rt.Grant.Scopes
		resp.ClientID = rt.Grant.ClientID
		resp.Subject = rt.Grant.UserID
		resp.Issuer = p.Issuer(tenant)
		resp.Expiration = oidc.FromTime(rt.ExpiresAt)
		resp.IssuedAt = oidc.FromTime(rt.CreatedAt)
	}
	return zop.NewResponse(resp), nil
}
