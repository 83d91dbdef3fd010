package op

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// TokenExchange serves RFC 8693 for one purpose (DESIGN §3): trading a
// user's access token of this tenant for an organization token. The
// caller must be the client the subject token was issued to, and the new
// token belongs to the same grant, so revoking the grant revokes it too.
func (s *server) TokenExchange(ctx context.Context, r *zop.ClientRequest[oidc.TokenExchangeRequest]) (*zop.Response, error) {
	p := s.p
	tenant := tenantID(ctx)
	d := r.Data
	if d.SubjectTokenType != oidc.AccessTokenType {
		return nil, oidc.ErrInvalidRequest().WithDescription("subject_token_type must be %s", oidc.AccessTokenType)
	}
	if d.ActorToken != "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("actor tokens are not supported")
	}
	if d.RequestedTokenType != "" && d.RequestedTokenType != oidc.AccessTokenType {
		return nil, oidc.ErrInvalidRequest().WithDescription("only access tokens can be requested")
	}
	orgID := r.Form.Get("organization_id")
	if orgID == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("organization_id is required")
	}
	if err := r.Client.(*client).mayUseOrganization(orgID); err != nil {
		return nil, err
	}
	sub, err := p.verifyAccessToken(ctx, tenant, d.SubjectToken)
	if errors.Is(err, errBadToken) {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token is invalid, expired or revoked")
	}
	if err != nil {
		return nil, p.oauthError(ctx, err, "verify subject token")
	}
	if sub.ClientID != r.Client.GetID() {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token was issued to another client")
	}
	if sub.grantID() == "" || sub.Subject == sub.ClientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token is not a user's token")
	}
	resource, err := p.userResource(tenant, d.Resource)
	if err != nil {
		return nil, err
	}
	resp, err := p.issue(ctx, issueRequest{
		grantType: oidc.GrantTypeTokenExchange,
		client:    r.Client.(*client),
		grant: storage.Grant{
			ID: sub.grantID(), ClientID: sub.ClientID, UserID: sub.Subject,
			AuthTime: unixTimeOrZero(sub.AuthTime), AMR: sub.AMR, ACR: sub.ACR,
		},
		org: &orgTarget{id: orgID, requested: d.Scopes, resource: resource},
	})
	if err != nil {
		return nil, p.oauthError(ctx, err, "issue exchanged token")
	}
	at := resp.Data.(*oidc.AccessTokenResponse)
	return zop.NewResponse(&oidc.TokenExchangeResponse{
		AccessToken:     at.AccessToken,
		IssuedTokenType: oidc.AccessTokenType,
		TokenType:       oidc.BearerToken,
		ExpiresIn:       at.ExpiresIn,
		Scopes:          at.Scope,
	}), nil
}

func unixTimeOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}
