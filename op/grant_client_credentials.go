package op

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
)

// ScopeManagement grants the management API (DESIGN §4).
const ScopeManagement = "management"

// ClientCredentialsExchange serves the client credentials grant (RFC 6749
// §4.4) for m2m applications (the library has checked the grant type and
// the client's authentication). With resource = the tenant's management
// API ({issuer}/api), an application holding the tenant role admin gets a
// token with scope management; without a resource, a token for itself.
// The subject is the client.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *zop.ClientRequest[oidc.ClientCredentialsRequest]) (*zop.Response, error) {
	p := s.p
	tenant := tenantID(ctx)
	c := r.Client.(*client)
	if r.Form.Get("organization_id") != "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("organization tokens for applications are not available yet")
	}
	resources := r.Form["resource"]
	if len(resources) > 1 {
		return nil, oidc.ErrInvalidTarget().WithDescription("only one resource may be requested")
	}
	aud, allowed := c.app.ClientID, []string(nil)
	if len(resources) == 1 {
		if resources[0] != p.managementAudience(tenant) {
			return nil, oidc.ErrInvalidTarget().WithDescription("unknown resource")
		}
		if !slices.Contains(c.app.TenantRoles, storage.TenantRoleAdmin) {
			return nil, oidc.ErrInvalidTarget().WithDescription("the client may not use the management API")
		}
		aud, allowed = resources[0], []string{ScopeManagement}
	}
	scopes := allowed
	if len(r.Data.Scope) > 0 {
		for _, sc := range r.Data.Scope {
			if !slices.Contains(allowed, sc) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not available to this client", sc)
			}
		}
		scopes = r.Data.Scope
	}
	now := p.now()
	at, err := p.signJSON(ctx, tenant, p.cfg.AccessTokenAlg, keys.TypeAccessToken, &accessClaims{
		Issuer:   p.Issuer(tenant),
		Subject:  c.app.ClientID,
		Audience: []string{aud},
		Expiry:   now.Add(p.cfg.AccessTokenTTL).Unix(),
		IssuedAt: now.Unix(),
		JWTID:    secure.ID(""), // no grant: revocable one token at a time
		ClientID: c.app.ClientID,
		Scope:    strings.Join(scopes, " "),
	})
	if err != nil {
		return nil, p.oauthError(ctx, err, "issue client credentials token")
	}
	return zop.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: at,
		TokenType:   oidc.BearerToken,
		ExpiresIn:   uint64(p.cfg.AccessTokenTTL / time.Second),
		Scope:       scopes,
	}), nil
}
