package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// orgTarget asks for an organization token (DESIGN §3).
type orgTarget struct {
	id string
	// requested permissions; empty means all the subject's permissions.
	requested []string
	// resource is the RFC 8707 resource the token is for; empty means the
	// organization itself.
	resource string
}

// OrganizationAudience is the audience of an organization token for orgID
// when no resource was requested.
func OrganizationAudience(orgID string) string { return "urn:orgid:organization:" + orgID }

func (t *orgTarget) audience() string {
	if t.resource != "" {
		return t.resource
	}
	return OrganizationAudience(t.id)
}

// grant returns the scope of the token: the subject's permissions that
// were requested, or all of them when none were.
func (t *orgTarget) grant(permissions []string) []string {
	if len(t.requested) == 0 {
		return permissions
	}
	out := []string{}
	for _, p := range permissions {
		if slices.Contains(t.requested, p) {
			out = append(out, p)
		}
	}
	return out
}

// errOrgDenied is the one answer for an organization that does not exist
// and one the subject is not a member of, so that organizations cannot be
// probed (DESIGN §3).
func errOrgDenied() error {
	return zop.NewStatusError(oidc.ErrAccessDenied().WithDescription("the organization does not exist or the subject is not a member of it"), http.StatusForbidden)
}

// memberAccess is "who is this subject in this organization": the one
// place every user's organization token comes from (refresh with
// organization_id, token exchange, the code of an organization= sign-in).
// amr is the sign-in's authentication methods, for the organization's MFA
// policy. There is no cache, so a removed member or role, or a reset
// factor, takes effect at the next request.
func (p *Provider) memberAccess(ctx context.Context, tenant, orgID, userID string, amr []string) (storage.MemberAccess, error) {
	if orgID == "" {
		return storage.MemberAccess{}, errOrgDenied()
	}
	access, err := p.cfg.Store.GetMemberAccess(ctx, tenant, orgID, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.MemberAccess{}, errOrgDenied()
	}
	if err != nil {
		return storage.MemberAccess{}, err
	}
	// Only once membership is established: a non-member learns nothing
	// of the organization's policy.
	if err := checkOrgMFA(access, amr); err != nil {
		return storage.MemberAccess{}, err
	}
	return access, nil
}

// oidcScopes are the scopes that say which claims and tokens a client
// gets; every other scope of an organization token request names a
// permission.
var oidcScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, ScopeOrganizations, ScopeOrganizationRoles}

// permissionScopes returns the scopes that name permissions.
func permissionScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if !slices.Contains(oidcScopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// managementAudience is the audience of the tenant's management API.
func (p *Provider) managementAudience(tenant string) string { return p.Issuer(tenant) + "/api" }

// resourceParam checks an RFC 8707 resource parameter: at most one, an
// absolute URI without a fragment (RFC 8707 §2).
func (p *Provider) resourceParam(values []string) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	if len(values) > 1 {
		return "", oidc.ErrInvalidTarget().WithDescription("only one resource may be requested")
	}
	r := values[0]
	u, err := url.Parse(r)
	if err != nil || !u.IsAbs() || u.Fragment != "" || len(r) > 2000 {
		return "", oidc.ErrInvalidTarget().WithDescription("resource must be an absolute URI without a fragment")
	}
	return r, nil
}

// userResource checks the resource of a user token or of an organization
// token: never the management API, whose tokens only admin applications
// get with client credentials and no organization.
func (p *Provider) userResource(tenant string, values []string) (string, error) {
	r, err := p.resourceParam(values)
	if err != nil {
		return "", err
	}
	if r != "" && r == p.managementAudience(tenant) {
		return "", oidc.ErrInvalidTarget().WithDescription("the management API is only for tenant admin applications without organization_id")
	}
	return r, nil
}
