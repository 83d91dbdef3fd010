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
// §4.4) for m2m applications; the library has checked the grant type
// against the client's kind, and VerifyClient its authentication. The
// subject of every token is the client. What the token is for must be
// said, with organization_id or resource (RFC 8707); without either the
// answer is invalid_target, because a token for nothing in particular
// would be accepted by whatever resource forgets to check its audience.
//
//   - organization_id (with or without resource): an organization token
//     for an organization the application is linked to (DESIGN §3, way 4).
//   - resource = the tenant's management API ({issuer}/api): for
//     applications holding the tenant role admin, scope management.
//   - any other resource: a token for it that carries no scope. orgid keeps
//     no registry of resource servers or of the scopes they define, so it
//     has nothing to grant: permission names belong to organizations and
//     come only in organization tokens, and management only with the
//     management API. Such a resource server authorizes by client_id; a
//     requested scope is invalid_scope rather than silently dropped.
//
// An application owned by an organization gets organization tokens for
// that organization only.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *zop.ClientRequest[oidc.ClientCredentialsRequest]) (*zop.Response, error) {
	p := s.p
	tenant := tenantID(ctx)
	c := r.Client.(*client)
	orgID := r.Form.Get("organization_id")
	resources := r.Form["resource"]
	switch {
	case len(resources) > 1:
		return nil, oidc.ErrInvalidTarget().WithDescription("only one resource may be requested")
	case orgID != "":
		return p.clientOrganizationToken(ctx, tenant, c, orgID, resources, r.Data.Scope)
	case len(resources) == 0:
		return nil, oidc.ErrInvalidTarget().WithDescription("organization_id or resource is required")
	case c.app.OrganizationID != "":
		return nil, oidc.ErrInvalidRequest().WithDescription("organization_id is required: the application belongs to an organization")
	}
	resource, err := p.resourceParam(resources)
	if err != nil {
		return nil, err
	}
	var allowed []string
	if resource == p.managementAudience(tenant) {
		if !slices.Contains(c.app.TenantRoles, storage.TenantRoleAdmin) {
			return nil, oidc.ErrInvalidTarget().WithDescription("the client may not use the management API")
		}
		allowed = []string{ScopeManagement}
	}
	scopes := allowed
	if len(r.Data.Scope) > 0 {
		for _, sc := range r.Data.Scope {
			if !slices.Contains(allowed, sc) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not available to this client for this resource", sc)
			}
		}
		scopes = r.Data.Scope
	}
	return p.issueClientToken(ctx, tenant, c, &accessClaims{Audience: []string{resource}, Scope: strings.Join(scopes, " ")}, scopes)
}

// clientOrganizationToken answers client credentials with organization_id:
// the application's roles there (the link's) and their permissions, cut
// down to the requested scopes when there are any. An application that is
// not linked, an organization that does not exist and another
// organization's application get one and the same 403, the answer users
// get (errOrgDenied), so organizations cannot be probed.
func (p *Provider) clientOrganizationToken(ctx context.Context, tenant string, c *client, orgID string, resources, requested []string) (*zop.Response, error) {
	if err := c.mayUseOrganization(orgID); err != nil {
		return nil, err
	}
	resource, err := p.userResource(tenant, resources)
	if err != nil {
		return nil, err
	}
	var access storage.ApplicationAccess
	if c.org != nil && c.org.orgID == orgID {
		access, err = c.org.access, c.org.err // VerifyClient's lookup
	} else {
		access, err = p.appAccess(ctx, tenant, orgID, c.app.ClientID)
	}
	if err != nil {
		return nil, p.oauthError(ctx, err, "load application access")
	}
	target := &orgTarget{id: orgID, requested: requested, resource: resource}
	granted := target.grant(access.Permissions)
	return p.issueClientToken(ctx, tenant, c, &accessClaims{
		Audience:          []string{target.audience()},
		Scope:             strings.Join(granted, " "),
		OrganizationID:    access.Organization.ID,
		OrganizationRoles: access.Roles,
	}, granted)
}

// issueClientToken signs an access token whose subject is the client,
// completing claims (audience, scope and organization already set).
func (p *Provider) issueClientToken(ctx context.Context, tenant string, c *client, claims *accessClaims, scopes []string) (*zop.Response, error) {
	now := p.now()
	claims.Issuer = p.Issuer(tenant)
	claims.Subject = c.app.ClientID
	claims.ClientID = c.app.ClientID
	claims.Expiry = now.Add(p.cfg.AccessTokenTTL).Unix()
	claims.IssuedAt = now.Unix()
	claims.JWTID = secure.ID("") // no grant: revocable one token at a time
	at, err := p.signJSON(ctx, tenant, p.cfg.AccessTokenAlg, keys.TypeAccessToken, claims)
	if err != nil {
		return nil, p.oauthError(ctx, err, "issue client credentials token")
	}
	// Every client credentials token is the application's own, with or
	// without an organization: kind m2m.
	p.metrics.TokenIssued(tenant, string(oidc.GrantTypeClientCredentials), kindM2M)
	p.usage.Token(tenant, usageOrganization(claims.OrganizationID, c.app.OrganizationID), c.app.ClientID, "", now)
	return zop.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: at,
		TokenType:   oidc.BearerToken,
		ExpiresIn:   uint64(p.cfg.AccessTokenTTL / time.Second),
		Scope:       scopes,
	}), nil
}
