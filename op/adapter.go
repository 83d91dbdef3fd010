package op

import (
	"context"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// idTokenAlgs are the algorithms a client may choose for its ID tokens.
var idTokenAlgs = []string{"RS256", "ES256", "EdDSA"}

// adapter is the zop.Storage the library's provider requires. The library
// still calls it to find clients, check secrets, store auth requests, list
// signing algorithms for discovery and verify id_token_hint against the
// key set. Token minting, grants, userinfo, introspection, revocation and
// logout are server overrides, so the token-storage half of the interface
// is unreachable and says so if it is ever called.
type adapter struct{ p *Provider }

var _ zop.Storage = (*adapter)(nil)

var errUnreachable = oidc.ErrServerError().WithDescription("internal error")

func (a *adapter) unreachable(ctx context.Context, method string) error {
	a.p.log.ErrorContext(ctx, "zitadel storage method called although orgid overrides its caller", "method", method)
	return errUnreachable
}

// Replaced by server.Authorize.
func (a *adapter) CreateAuthRequest(ctx context.Context, _ *oidc.AuthRequest, _ string) (zop.AuthRequest, error) {
	return nil, a.unreachable(ctx, "CreateAuthRequest")
}

func (a *adapter) AuthRequestByID(ctx context.Context, id string) (zop.AuthRequest, error) {
	ar, err := a.p.cfg.State.AuthRequest(ctx, tenantID(ctx), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("auth request not found")
	}
	if err != nil {
		return nil, a.p.oauthError(ctx, err, "load auth request")
	}
	return authRequest{ar}, nil
}

func (a *adapter) DeleteAuthRequest(ctx context.Context, id string) error {
	return a.p.oauthError(ctx, a.p.cfg.State.DeleteAuthRequest(ctx, tenantID(ctx), id), "delete auth request")
}

// Replaced by server.CodeExchange and Provider.callback.
func (a *adapter) AuthRequestByCode(ctx context.Context, _ string) (zop.AuthRequest, error) {
	return nil, a.unreachable(ctx, "AuthRequestByCode")
}
func (a *adapter) SaveAuthCode(ctx context.Context, _, _ string) error {
	return a.unreachable(ctx, "SaveAuthCode")
}

// Replaced by Provider.issue.
func (a *adapter) CreateAccessToken(ctx context.Context, _ zop.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, a.unreachable(ctx, "CreateAccessToken")
}
func (a *adapter) CreateAccessAndRefreshTokens(ctx context.Context, _ zop.TokenRequest, _ string) (string, string, time.Time, error) {
	return "", "", time.Time{}, a.unreachable(ctx, "CreateAccessAndRefreshTokens")
}
func (a *adapter) TokenRequestByRefreshToken(ctx context.Context, _ string) (zop.RefreshTokenRequest, error) {
	return nil, a.unreachable(ctx, "TokenRequestByRefreshToken")
}
func (a *adapter) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	return nil, a.unreachable(ctx, "SigningKey")
}
func (a *adapter) GetPrivateClaimsFromScopes(ctx context.Context, _, _ string, _ []string) (map[string]any, error) {
	return nil, a.unreachable(ctx, "GetPrivateClaimsFromScopes")
}

// Replaced by server.EndSession.
func (a *adapter) TerminateSession(ctx context.Context, _, _ string) error {
	return a.unreachable(ctx, "TerminateSession")
}

// Replaced by server.Revocation.
func (a *adapter) RevokeToken(ctx context.Context, _, _, _ string) *oidc.Error {
	a.p.log.ErrorContext(ctx, "zitadel storage method called although orgid overrides its caller", "method", "RevokeToken")
	return errUnreachable
}
func (a *adapter) GetRefreshTokenInfo(ctx context.Context, _, _ string) (string, string, error) {
	return "", "", a.unreachable(ctx, "GetRefreshTokenInfo")
}

// Replaced by server.UserInfo and server.Introspect.
func (a *adapter) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // deprecated by the library: called with no effect expected
}
func (a *adapter) SetUserinfoFromToken(ctx context.Context, _ *oidc.UserInfo, _, _, _ string) error {
	return a.unreachable(ctx, "SetUserinfoFromToken")
}
func (a *adapter) SetIntrospectionFromToken(ctx context.Context, _ *oidc.IntrospectionResponse, _, _, _ string) error {
	return a.unreachable(ctx, "SetIntrospectionFromToken")
}

// Replaced by server.JWTProfile (not offered).
func (a *adapter) GetKeyByIDAndClientID(ctx context.Context, _, _ string) (*jose.JSONWebKey, error) {
	return nil, a.unreachable(ctx, "GetKeyByIDAndClientID")
}
func (a *adapter) ValidateJWTProfileScopes(ctx context.Context, _ string, _ []string) ([]string, error) {
	return nil, a.unreachable(ctx, "ValidateJWTProfileScopes")
}

func (a *adapter) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	out := make([]jose.SignatureAlgorithm, len(idTokenAlgs))
	for i, alg := range idTokenAlgs {
		out[i] = jose.SignatureAlgorithm(alg)
	}
	return out, nil
}

// KeySet is used by the library to verify id_token_hint.
func (a *adapter) KeySet(ctx context.Context) ([]zop.Key, error) {
	set, err := a.p.cfg.Keys.KeySet(ctx, tenantID(ctx))
	if err != nil {
		return nil, a.p.oauthError(ctx, err, "load key set")
	}
	out := make([]zop.Key, len(set.Keys))
	for i := range set.Keys {
		out[i] = publicKey{&set.Keys[i]}
	}
	return out, nil
}

func (a *adapter) GetClientByClientID(ctx context.Context, clientID string) (zop.Client, error) {
	c, err := a.p.client(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown client_id")
	}
	if err != nil {
		return nil, a.p.oauthError(ctx, err, "load client")
	}
	return c, nil
}

func (a *adapter) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	c, err := a.p.client(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !c.checkSecret(secret)) {
		return clientError("client authentication failed")
	}
	return a.p.oauthError(ctx, err, "load client")
}

// Health is the probe of the library's {issuer}/ready, which answers a
// plain error with 500: an unreachable store must be 503 there too.
func (a *adapter) Health(ctx context.Context) error {
	if err := a.p.cfg.Store.Ping(ctx); err != nil {
		return a.p.oauthError(ctx, err, "ping durable store")
	}
	return a.p.oauthError(ctx, a.p.cfg.State.KV.Ping(ctx), "ping ephemeral store")
}

// publicKey adapts a JWK to zop.Key.
type publicKey struct{ k *jose.JSONWebKey }

func (k publicKey) ID() string                         { return k.k.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Algorithm) }
func (k publicKey) Use() string                        { return k.k.Use }
func (k publicKey) Key() any                           { return k.k.Key }
