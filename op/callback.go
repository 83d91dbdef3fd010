package op

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// callback finishes an auth request once the login pages are done with it:
// it answers the client's redirect URI with a fresh authorization code, or
// with the error the login pages recorded (e.g. login_required for
// prompt=none). It replaces the library's callback so that codes are
// random, single-use and carry their grant ID.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenant := tenantID(ctx)
	id := r.URL.Query().Get("id")
	ar, err := p.cfg.State.AuthRequest(ctx, tenant, id)
	if err != nil {
		status := http.StatusBadRequest
		msg := "This sign-in request has expired. Go back to the application and try again."
		if !errors.Is(err, storage.ErrNotFound) {
			status, msg = http.StatusInternalServerError, "Something went wrong. Please try again."
			if errors.Is(err, storage.ErrUnavailable) {
				status, msg = http.StatusServiceUnavailable, "The service is temporarily unavailable. Please try again shortly."
			}
			p.log.ErrorContext(ctx, "load auth request", slog.Any("error", err))
		}
		http.Error(w, msg, status)
		return
	}
	var response any
	switch {
	case ar.Error != "":
		e := loginError(ar.Error)
		if ar.ErrorDescription != "" {
			e.Description = ar.ErrorDescription
		}
		e.State = ar.State
		response = e
	case !ar.Done:
		e := oidc.ErrInteractionRequired().WithDescription("the user has not signed in")
		e.State = ar.State
		response = e
	default:
		// The code names its grant so that a replayed code can revoke the
		// grant's tokens without another lookup (storage.State.RedeemCode).
		code := ar.GrantID + "." + secure.Token()
		if err := p.cfg.State.PutCode(ctx, code, ar, p.cfg.CodeTTL); err != nil {
			p.log.ErrorContext(ctx, "save code", slog.Any("error", err))
			e := oidc.ErrServerError().WithDescription("internal error")
			e.State = ar.State
			response = e
			break
		}
		response = &zop.CodeResponseType{Code: code, State: ar.State}
	}
	if err := p.cfg.State.DeleteAuthRequest(ctx, tenant, ar.ID); err != nil {
		p.log.WarnContext(ctx, "delete auth request", slog.Any("error", err))
	}
	if ar.ResponseMode == string(oidc.ResponseModeFormPost) {
		if err := zop.AuthResponseFormPost(w, ar.RedirectURI, response, p.zp.Encoder()); err != nil {
			http.Error(w, "Something went wrong. Please try again.", http.StatusInternalServerError)
		}
		return
	}
	to, err := zop.AuthResponseURL(ar.RedirectURI, oidc.ResponseType(ar.ResponseType), oidc.ResponseMode(ar.ResponseMode), response, p.zp.Encoder())
	if err != nil {
		p.log.ErrorContext(ctx, "build redirect", slog.Any("error", err))
		http.Error(w, "Something went wrong. Please try again.", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// loginError converts an error code recorded by the login pages
// (storage.AuthRequest.Error) into the OAuth error sent to the client.
func loginError(code string) *oidc.Error {
	switch code {
	case "login_required":
		return oidc.ErrLoginRequired()
	case "interaction_required":
		return oidc.ErrInteractionRequired()
	case "access_denied":
		return oidc.ErrAccessDenied()
	default:
		return oidc.ErrServerError()
	}
}
