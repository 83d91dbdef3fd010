package op

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// EndSession serves RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0): it ends the browser's single sign-on session and sends the
// browser to the client's registered post_logout_redirect_uri (exact
// match), or to the tenant's "signed out" page. Refresh tokens of
// offline_access grants survive, as in Keycloak and Auth0.
func (s *server) EndSession(ctx context.Context, r *zop.Request[oidc.EndSessionRequest]) (*zop.Redirect, error) {
	p := s.p
	tenant := tenantID(ctx)
	if uri := r.Data.PostLogoutRedirectURI; uri != "" && (r.Data.ClientID != "" || r.Data.IdTokenHint != "") {
		if err := s.exactPostLogoutURI(ctx, r.Data); err != nil {
			return nil, err
		}
	}
	session, err := zop.ValidateEndSessionRequest(ctx, r.Data, s.Provider())
	if err != nil {
		return nil, p.oauthError(ctx, err, "validate end session")
	}
	to := session.RedirectURI
	if strings.HasPrefix(to, loggedOutPath) {
		to = p.Issuer(tenant) + to
	}
	secure := strings.HasPrefix(p.cfg.ExternalURL, "https://")
	red := zop.NewRedirect(to)
	if id := httpx.SessionID(r.Header, tenant, secure); id != "" {
		if err := p.cfg.State.DeleteSession(ctx, tenant, id); err != nil {
			p.log.WarnContext(ctx, "end session", slog.Any("error", err))
			return nil, p.oauthError(ctx, err, "end session")
		}
		red.Header.Add("Set-Cookie", httpx.SessionCookie(tenant, "", 0, secure).String())
	}
	return red, nil
}

// exactPostLogoutURI refuses a post_logout_redirect_uri that is not
// registered exactly; the library would accept any loopback port for
// native clients.
func (s *server) exactPostLogoutURI(ctx context.Context, req *oidc.EndSessionRequest) error {
	clientID := req.ClientID
	if clientID == "" {
		// The azp of the hint names the client; ValidateEndSessionRequest
		// checks the hint's signature right after this.
		claims := new(oidc.IDTokenClaims)
		if _, err := oidc.ParseToken(req.IdTokenHint, claims); err != nil {
			return oidc.ErrInvalidRequest().WithDescription("id_token_hint invalid")
		}
		clientID = claims.GetAuthorizedParty()
	}
	c, err := s.p.client(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidRequest().WithDescription("unknown client")
	}
	if err != nil {
		return s.p.oauthError(ctx, err, "load client")
	}
	if !slices.Contains(c.PostLogoutRedirectURIs(), req.PostLogoutRedirectURI) {
		return oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri is not registered for this client")
	}
	return nil
}
