package op

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// CodeExchange redeems an authorization code (RFC 6749 §4.1.3, OIDC Core
// §3.1.3). The code is consumed atomically, so of two concurrent
// redemptions exactly one succeeds; a code presented again revokes the
// grant it started, with every token issued from it (RFC 6749 §4.1.2,
// RFC 9700 §4.5.3).
func (s *server) CodeExchange(ctx context.Context, r *zop.ClientRequest[oidc.AccessTokenRequest]) (*zop.Response, error) {
	p := s.p
	tenant := tenantID(ctx)
	code := r.Data.Code
	grantID, _, ok := strings.Cut(code, ".")
	if !ok || grantID == "" {
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code is invalid or expired")
	}
	ar, err := p.cfg.State.RedeemCode(ctx, tenant, code, grantID)
	switch {
	case errors.Is(err, storage.ErrCodeRedeemed):
		if err := p.revokeGrant(ctx, tenant, grantID); err != nil {
			return nil, p.oauthError(ctx, err, "revoke replayed grant")
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code was already used; the tokens it issued are revoked")
	case errors.Is(err, storage.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code is invalid or expired")
	case err != nil:
		return nil, p.oauthError(ctx, err, "redeem code")
	}
	// The code is spent now whatever follows: a code presented by the wrong
	// client or with the wrong verifier has leaked and must not work later.
	if ar.ClientID != r.Client.GetID() {
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code was issued to another client")
	}
	if r.Data.RedirectURI != ar.RedirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match the authorization request")
	}
	if err := zop.AuthorizeCodeChallenge(r.Data.CodeVerifier, authRequest{ar}.GetCodeChallenge()); err != nil {
		return nil, err
	}
	c := r.Client.(*client)
	req := issueRequest{
		grantType: oidc.GrantTypeCode,
		client:    c,
		grant: storage.Grant{
			ID:             ar.GrantID,
			ClientID:       ar.ClientID,
			UserID:         ar.UserID,
			Scopes:         ar.Scopes,
			Audience:       []string{ar.ClientID},
			AuthTime:       ar.AuthTime,
			AMR:            ar.AMR,
			ACR:            ar.ACR,
			OrganizationID: ar.OrganizationID,
		},
		scopes:       ar.Scopes,
		nonce:        ar.Nonce,
		startRefresh: slices.Contains(ar.Scopes, oidc.ScopeOfflineAccess) && zop.ValidateGrantType(c, oidc.GrantTypeRefreshToken),
		idToken:      true,
	}
	if ar.OrganizationID != "" {
		// A sign-in with organization= yields organization tokens for it.
		req.org = &orgTarget{id: ar.OrganizationID, requested: permissionScopes(ar.Scopes), resource: first(ar.Resource)}
	}
	resp, err := p.issue(ctx, req)
	if errors.Is(err, storage.ErrConflict) {
		// The code was replayed while this exchange ran, which revoked the grant.
		return nil, oidc.ErrInvalidGrant().WithDescription(errRevokedDuringExchange)
	}
	if err != nil {
		return nil, p.oauthError(ctx, err, "issue tokens for code")
	}
	return resp, nil
}

// errRevokedDuringExchange answers the one redemption that won a code when
// a concurrent replay revoked the grant before its tokens were stored.
const errRevokedDuringExchange = "authorization code was replayed during the exchange; the grant is revoked"

// revokeGrant kills a grant: its refresh tokens go, and its access tokens
// are refused until the last of them would have expired anyway.
func (p *Provider) revokeGrant(ctx context.Context, tenant, grantID string) error {
	return p.cfg.Store.RevokeGrant(ctx, tenant, grantID, p.now().Add(p.cfg.AccessTokenTTL))
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
