package op

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// JWTProfile serves grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
// (RFC 7523 §2.1) for identity tokens (DESIGN §3): an organization's
// identity service signs a token for one of its users, with a nonce the
// client got from identityNoncesPath, and the client trades it for an
// organization token of that organization.
//
// The library hands this grant over unauthenticated and with the raw
// assertion, and would answer a bad assertion with invalid_request; orgid
// authenticates the client itself and refuses every bad assertion with
// invalid_grant, as RFC 7523 §3.1 requires.
func (s *server) JWTProfile(ctx context.Context, r *zop.Request[oidc.JWTProfileGrantRequest]) (*zop.Response, error) {
	p := s.p
	c, err := s.verifyFormClient(ctx, r.Method, r.URL, r.Header, r.Form)
	if err != nil {
		return nil, err
	}
	httpx.RequestInfo(ctx).SetClientID(c.GetID())
	if !zop.ValidateGrantType(c, oidc.GrantTypeBearer) {
		return nil, errBearerNotAllowed
	}
	resp, err := p.identityGrant(ctx, c, r.Data, r.Form)
	if err != nil {
		return nil, p.oauthError(ctx, err, "identity token grant")
	}
	return resp, nil
}

func (p *Provider) identityGrant(ctx context.Context, c *client, d *oidc.JWTProfileGrantRequest, form url.Values) (*zop.Response, error) {
	tenant := tenantID(ctx)
	a, err := verifyIdentityAssertion(ctx, d.Assertion, p.Issuer(tenant), p.now(),
		func(ctx context.Context, kid string) (storage.AuthKey, storage.Organization, error) {
			return p.authKey(ctx, tenant, kid)
		})
	if err != nil {
		return nil, err
	}
	// The nonce is used last, so that a token failing any other check
	// cannot spend it; once used it is spent whatever follows.
	n, err := p.cfg.State.UseIdentityNonce(ctx, tenant, a.nonce)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, refuse("nonce unknown")
	case errors.Is(err, storage.ErrNonceUsed):
		return nil, refuse("nonce already used")
	case err != nil:
		return nil, err
	}
	if !p.now().Before(n.ExpiresAt) {
		return nil, refuse("nonce expired")
	}
	if n.ClientID != c.GetID() {
		return nil, refuse("nonce was issued to another client")
	}
	if err := c.mayUseOrganization(a.org.ID); err != nil {
		return nil, err
	}
	resource, err := p.userResource(tenant, form["resource"])
	if err != nil {
		return nil, err
	}
	u, err := p.identityUser(ctx, tenant, a)
	if err != nil {
		return nil, err
	}
	if err := p.cfg.Store.TouchAuthKey(ctx, tenant, a.key.KID, p.now()); err != nil {
		p.log.WarnContext(ctx, "touch auth key", slog.String("kid", a.key.KID), slog.Any("error", err))
	}
	scopes := identityScopes(c, d.Scope)
	resp, err := p.issue(ctx, issueRequest{
		grantType: oidc.GrantTypeBearer,
		client:    c,
		grant: storage.Grant{
			ID:             secure.ID(""),
			ClientID:       c.GetID(),
			UserID:         u.ID,
			Scopes:         scopes,
			Audience:       []string{c.GetID()},
			AuthTime:       p.now(),
			AMR:            []string{amrExternal},
			OrganizationID: a.org.ID,
		},
		scopes:       scopes,
		startRefresh: slices.Contains(scopes, oidc.ScopeOfflineAccess) && zop.ValidateGrantType(c, oidc.GrantTypeRefreshToken),
		user:         &u,
		org:          &orgTarget{id: a.org.ID, requested: permissionScopes(scopes), resource: resource},
		idToken:      true,
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// amrExternal says the user was authenticated by an organization's
// identity service (RFC 8176 has no value for it).
const amrExternal = "ext"

// identityScopes keeps the requested scopes the client may have, once each.
func identityScopes(c *client, requested []string) []string {
	var out []string
	for _, s := range requested {
		if c.IsScopeAllowed(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// authKeyEntry is what the authentication key cache keeps of a kid.
type authKeyEntry struct {
	key storage.AuthKey
	org storage.Organization
}

// authKey looks up tenant's authentication key kid and its organization
// through the cache: a replica reads a busy key once per ClientCacheTTL,
// not once per exchange. Errors (an unknown kid) are not cached.
func (p *Provider) authKey(ctx context.Context, tenant, kid string) (storage.AuthKey, storage.Organization, error) {
	e, err := p.authKeys.Get(ctx, [2]string{tenant, kid})
	if err != nil {
		return storage.AuthKey{}, storage.Organization{}, err
	}
	return e.key, e.org, nil
}

// ForgetAuthKey drops a cached authentication key, so that a revocation
// made through this replica holds here at once; other replicas see it
// within ClientCacheTTL.
func (p *Provider) ForgetAuthKey(tenantID, kid string) {
	p.authKeys.Forget([2]string{tenantID, kid})
}
