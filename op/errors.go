package op

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// oauthError turns any error into one a client may see. An *oidc.Error
// (or a zop.StatusError) passes unchanged. Everything else is internal: it
// is logged with its full text and the client gets server_error — or, when
// a store is unreachable, 503 temporarily_unavailable — with a fixed
// description. zitadel/oidc would otherwise answer a plain error with its
// text as error_description, leaking driver messages, SQL or addresses.
func (p *Provider) oauthError(ctx context.Context, err error, during string) error {
	if err == nil {
		return nil
	}
	var oe *oidc.Error
	var se zop.StatusError
	if errors.As(err, &se) || errors.As(err, &oe) {
		return err
	}
	// The cause goes to the access log line, for operators only.
	httpx.RequestInfo(ctx).SetCause(err)
	if errors.Is(err, storage.ErrUnavailable) {
		// protocolHeaders adds Retry-After to every 503.
		p.log.WarnContext(ctx, "store unavailable", slog.String("during", during), slog.Any("error", err))
		return errUnavailable()
	}
	p.log.ErrorContext(ctx, "internal error", slog.String("during", during), slog.Any("error", err))
	return oidc.ErrServerError().WithDescription("internal error")
}

func errUnavailable() error {
	return zop.NewStatusError(&oidc.Error{
		ErrorType:   temporarilyUnavailable,
		Description: "The service is temporarily unavailable. Try again shortly.",
	}, http.StatusServiceUnavailable)
}

const temporarilyUnavailable = "temporarily_unavailable"

// keepUnavailable restores the 503 of an outage that the library has
// stripped: where it wraps our errors with oidc.DefaultToServerError
// (e.g. the client lookup of LegacyServer.VerifyAuthRequest), the
// zop.StatusError is lost and only its *oidc.Error survives, which
// zop.WriteError would answer with 400.
func keepUnavailable(err error) error {
	var se zop.StatusError
	var oe *oidc.Error
	if !errors.As(err, &se) && errors.As(err, &oe) && oe.ErrorType == temporarilyUnavailable {
		return zop.NewStatusError(oe, http.StatusServiceUnavailable)
	}
	return err
}

// clientError answers a failed client authentication: 401 invalid_client
// (RFC 6749 §5.2), with WWW-Authenticate added by protocolHeaders.
func clientError(description string) error {
	return zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("%s", description), http.StatusUnauthorized)
}

// invalidToken answers a bad bearer token at userinfo (RFC 6750 §3.1).
func invalidToken(description string) error {
	return zop.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: description}, http.StatusUnauthorized)
}
