package op

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// userinfoResponse is the UserInfo response (OIDC Core §5.3.2).
type userinfoResponse struct {
	Subject string `json:"sub"`
	userClaims
	orgClaims
}

// UserInfo returns the claims the access token's scopes release. The token
// must be a valid, unrevoked access token of this tenant that holds the
// openid scope.
func (s *server) UserInfo(ctx context.Context, r *zop.Request[oidc.UserInfoRequest]) (*zop.Response, error) {
	p := s.p
	tenant := tenantID(ctx)
	c, err := p.verifyAccessToken(ctx, tenant, r.Data.AccessToken)
	if errors.Is(err, errBadToken) {
		return nil, invalidToken("access token is invalid, expired or revoked")
	}
	if err != nil {
		return nil, p.oauthError(ctx, err, "verify access token")
	}
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		return nil, zop.NewStatusError(&oidc.Error{ErrorType: "insufficient_scope", Description: "the access token lacks the openid scope"}, http.StatusForbidden)
	}
	u, err := p.cfg.Store.GetUser(ctx, tenant, c.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, invalidToken("the user no longer exists")
	}
	if err != nil {
		return nil, p.oauthError(ctx, err, "load user")
	}
	oc, err := p.organizationClaims(ctx, tenant, u.ID, scopes, false)
	if err != nil {
		return nil, p.oauthError(ctx, err, "load organizations")
	}
	return zop.NewResponse(&userinfoResponse{Subject: u.ID, userClaims: claimsFor(u, scopes), orgClaims: oc}), nil
}
