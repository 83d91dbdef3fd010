package op

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// Revocation serves RFC 7009. Revoking a refresh token revokes its whole
// grant, access tokens included (RFC 7009 §2.1 encourages this); revoking
// an access token revokes that token. A token issued to another client is
// refused; an unknown, invalid or expired token is answered with 200,
// because the client's goal — the token is unusable — already holds
// (RFC 7009 §2.2).
func (s *server) Revocation(ctx context.Context, r *zop.ClientRequest[oidc.RevocationRequest]) (*zop.Response, error) {
	p := s.p
	tenant := tenantID(ctx)
	token := r.Data.Token
	caller := r.Client.GetID()

	if strings.Count(token, ".") == 2 {
		c, err := p.verifyAccessToken(ctx, tenant, token)
		if errors.Is(err, errBadToken) {
			return zop.NewResponse(nil), nil
		}
		if err != nil {
			return nil, p.revocationError(ctx, err, "verify access token")
		}
		if c.ClientID != caller {
			return nil, zop.RevocationError(oidc.ErrInvalidRequest().WithDescription("the token was not issued to this client"))
		}
		if err := p.cfg.Store.RevokeToken(ctx, tenant, c.JWTID, time.Unix(c.Expiry, 0)); err != nil {
			return nil, p.revocationError(ctx, err, "revoke access token")
		}
		return zop.NewResponse(nil), nil
	}

	rt, match, err := p.findRefresh(ctx, tenant, token)
	if err != nil {
		return nil, p.revocationError(ctx, err, "load refresh token")
	}
	if match == refreshUnknown {
		return zop.NewResponse(nil), nil
	}
	if rt.Grant.ClientID != caller {
		return nil, zop.RevocationError(oidc.ErrInvalidRequest().WithDescription("the token was not issued to this client"))
	}
	if err := p.revokeGrant(ctx, tenant, rt.Grant.ID); err != nil {
		return nil, p.revocationError(ctx, err, "revoke grant")
	}
	return zop.NewResponse(nil), nil
}

// revocationError keeps a status the error already names (503 for an
// unreachable store) and otherwise uses RFC 7009's statuses.
func (p *Provider) revocationError(ctx context.Context, err error, during string) error {
	err = p.oauthError(ctx, err, during)
	var se zop.StatusError
	if errors.As(err, &se) {
		return err
	}
	return zop.RevocationError(err)
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0) }
