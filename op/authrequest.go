package op

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// authRequest adapts a stored auth request to zop.AuthRequest.
type authRequest struct{ *storage.AuthRequest }

var _ zop.AuthRequest = authRequest{}

func (a authRequest) GetID() string          { return a.ID }
func (a authRequest) GetACR() string         { return a.ACR }
func (a authRequest) GetAMR() []string       { return a.AMR }
func (a authRequest) GetAudience() []string  { return []string{a.ClientID} }
func (a authRequest) GetAuthTime() time.Time { return a.AuthTime }
func (a authRequest) GetClientID() string    { return a.ClientID }
func (a authRequest) GetNonce() string       { return a.Nonce }
func (a authRequest) GetRedirectURI() string { return a.RedirectURI }
func (a authRequest) GetScopes() []string    { return a.Scopes }
func (a authRequest) GetState() string       { return a.State }
func (a authRequest) GetSubject() string     { return a.UserID }
func (a authRequest) Done() bool             { return a.AuthRequest.Done }
func (a authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.ResponseType)
}
func (a authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.ResponseMode)
}
func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}

// createAuthRequest validates what the library leaves to storage and saves
// the request. The library has already checked the client, the exact
// redirect URI, the response type and the scopes; errors returned here are
// sent to the client's redirect URI.
func (p *Provider) createAuthRequest(ctx context.Context, req *oidc.AuthRequest, form url.Values) (*storage.AuthRequest, error) {
	c, err := p.client(ctx, req.ClientID)
	if err != nil {
		return nil, p.oauthError(ctx, err, "load client")
	}
	// PKCE (RFC 7636, RFC 9700 §2.1.1): only S256. Public clients must use
	// it; the library does not enforce this on the LegacyServer path.
	switch {
	case req.CodeChallenge == "" && c.app.Type.Public():
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is required (PKCE with S256)")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		// RFC 7636 §4.3: an absent method means "plain", which orgid refuses too.
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case req.CodeChallenge != "" && !validChallenge(req.CodeChallenge):
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge must be 43 base64url characters")
	}
	tenant := tenantID(ctx)
	resource, err := p.userResource(tenant, form["resource"])
	if err != nil {
		return nil, err
	}
	orgID, err := p.organizationParam(ctx, tenant, form.Get("organization"))
	if err != nil {
		return nil, err
	}
	if own := c.app.OrganizationID; own != "" {
		// An organization's application signs in only its members: the
		// request is one with organization=<its organization>, which the
		// login pages hold to (members only, access_denied otherwise).
		switch orgID {
		case "":
			orgID = own
		case own:
		default:
			return nil, oidc.ErrAccessDenied().WithDescription("the application signs in only the members of its own organization")
		}
	}
	scopes := slices.Clone(req.Scopes)
	if orgID == "" {
		// Permissions only mean something in an organization token.
		scopes = slices.DeleteFunc(scopes, func(s string) bool { return !slices.Contains(oidcScopes, s) })
	}
	switch req.ResponseMode {
	case "", oidc.ResponseModeQuery, oidc.ResponseModeFragment, oidc.ResponseModeFormPost:
	default:
		return nil, oidc.ErrInvalidRequest().WithDescription("unsupported response_mode")
	}
	ar := &storage.AuthRequest{
		ID:                  secure.ID(""),
		TenantID:            tenant,
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		Scopes:              scopes,
		OrganizationID:      orgID,
		State:               req.State,
		Nonce:               req.Nonce,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              slices.Clone(req.Prompt),
		LoginHint:           req.LoginHint,
		ACRValues:           slices.Clone(req.ACRValues),
		CreatedAt:           p.now(),
		GrantID:             secure.ID(""),
	}
	if resource != "" {
		ar.Resource = []string{resource}
	}
	if req.MaxAge != nil {
		m := int64(*req.MaxAge)
		ar.MaxAge = &m
	}
	for _, l := range req.UILocales {
		ar.UILocales = append(ar.UILocales, l.String())
	}
	if err := p.cfg.State.PutAuthRequest(ctx, ar, p.cfg.AuthRequestTTL); err != nil {
		return nil, p.oauthError(ctx, err, "save auth request")
	}
	return ar, nil
}

// organizationParam resolves organization= (an ID or a slug) to an
// organization ID. An unknown value is kept as it is: the sign-in is then
// refused after authentication exactly like a non-member's, so /authorize
// does not tell which organizations exist.
func (p *Provider) organizationParam(ctx context.Context, tenant, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if len(v) > 200 {
		return "", oidc.ErrInvalidRequest().WithDescription("organization is too long")
	}
	o, err := p.cfg.Store.GetOrganizationBySlug(ctx, tenant, v)
	if err == nil {
		return o.ID, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return "", p.oauthError(ctx, err, "resolve organization")
	}
	return v, nil
}

// validChallenge: an S256 challenge is a base64url SHA-256, 43 characters.
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
