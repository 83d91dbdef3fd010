package op

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// RefreshToken serves the refresh_token grant (RFC 6749 §6, OIDC Core §12).
// Refresh tokens rotate: each use returns a new one and spends the old, and
// presenting a spent token revokes the whole grant (RFC 9700 §4.14.2).
func (s *server) RefreshToken(ctx context.Context, r *zop.ClientRequest[oidc.RefreshTokenRequest]) (*zop.Response, error) {
	p := s.p
	tenant := tenantID(ctx)
	invalid := oidc.ErrInvalidGrant().WithDescription("refresh token is invalid, expired or revoked")
	rt, match, err := p.findRefresh(ctx, tenant, r.Data.RefreshToken)
	if err != nil {
		return nil, p.oauthError(ctx, err, "load refresh token")
	}
	switch match {
	case refreshUnknown:
		return nil, invalid
	case refreshRotated:
		return nil, p.refreshReused(ctx, tenant, rt.Grant.ID)
	}
	if rt.Grant.ClientID != r.Client.GetID() {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was issued to another client")
	}
	if !p.now().Before(rt.ExpiresAt) {
		return nil, invalid
	}
	if rt.User.ID == "" {
		return nil, errUserGone
	}
	req := issueRequest{
		grantType: oidc.GrantTypeRefreshToken,
		client:    r.Client.(*client),
		grant:     rt.Grant,
		scopes:    rt.Grant.Scopes,
		refresh:   &rt,
		user:      &rt.User,
		idToken:   true,
	}
	orgID := r.Form.Get("organization_id")
	switch {
	case orgID != "":
		// DESIGN §3: switching organization is a refresh with
		// organization_id; the grant must hold the organizations scope
		// (or be bound to that very organization by an organization= sign-in).
		if !slices.Contains(rt.Grant.Scopes, ScopeOrganizations) && orgID != rt.Grant.OrganizationID {
			return nil, oidc.ErrInvalidScope().WithDescription("the refresh token lacks the organizations scope")
		}
		req.idToken = false // an organization token request, as in Logto
		fallthrough
	case rt.Grant.OrganizationID != "":
		if orgID == "" {
			orgID = rt.Grant.OrganizationID
		}
		if err := req.client.mayUseOrganization(orgID); err != nil {
			return nil, err
		}
		resource, err := p.userResource(tenant, r.Form["resource"])
		if err != nil {
			return nil, err
		}
		// For an organization token, scope names the permissions wanted.
		req.org = &orgTarget{id: orgID, requested: r.Data.Scopes, resource: resource}
	case len(r.Data.Scopes) > 0:
		// A client may ask for less than the grant holds, never more (RFC 6749 §6).
		for _, sc := range r.Data.Scopes {
			if !slices.Contains(rt.Grant.Scopes, sc) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope %q was not granted", sc)
			}
		}
		req.scopes = r.Data.Scopes
	}
	resp, err := p.issue(ctx, req)
	if errors.Is(err, storage.ErrConflict) {
		// Another request rotated this token first: it was used twice.
		return nil, p.refreshReused(ctx, tenant, rt.Grant.ID)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, invalid // revoked meanwhile
	}
	if err != nil {
		return nil, p.oauthError(ctx, err, "issue tokens for refresh")
	}
	return resp, nil
}

// refreshReused revokes the grant of a refresh token presented after it
// was rotated out: either the client or an attacker holds a stolen copy.
func (p *Provider) refreshReused(ctx context.Context, tenant, grantID string) error {
	if err := p.revokeGrant(ctx, tenant, grantID); err != nil {
		return p.oauthError(ctx, err, "revoke reused grant")
	}
	return oidc.ErrInvalidGrant().WithDescription("refresh token was already used; the grant is revoked")
}

// findRefresh loads the grant a refresh token names and says how the token
// relates to it. A token naming no live grant is refreshUnknown, not an error.
func (p *Provider) findRefresh(ctx context.Context, tenant, token string) (storage.RefreshToken, refreshMatch, error) {
	grantID := refreshGrantID(token)
	if grantID == "" {
		return storage.RefreshToken{}, refreshUnknown, nil
	}
	rt, err := p.cfg.Store.GetRefreshToken(ctx, tenant, grantID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.RefreshToken{}, refreshUnknown, nil
	}
	if err != nil {
		return storage.RefreshToken{}, refreshUnknown, err
	}
	return rt, matchRefresh(rt, token), nil
}
