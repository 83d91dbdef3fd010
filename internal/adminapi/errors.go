package adminapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// fail answers with the problem err stands for. Only errors the API
// understands reach the client with their words; anything else is a 500
// whose detail stays in the log (a store's text must never leak).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, h.classify(r, err))
}

func (h *Handler) classify(r *http.Request, err error) *apiError {
	var (
		ae *apiError
		fe *storage.FieldError
		lo *manage.LastOwnerError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		if fe.Field == "page_token" || fe.Field == "page_size" {
			return fieldError(http.StatusBadRequest, "invalid-parameter", fe.Field, fe.Message)
		}
		return fieldError(http.StatusUnprocessableEntity, "invalid-value", fe.Field, fe.Message)
	case errors.As(err, &lo):
		e := newError(http.StatusConflict, "last-owner",
			"this would leave the organization without an owner: make another member owner first")
		e.orgID = lo.OrganizationID
		return e
	case errors.Is(err, manage.ErrForbidden):
		return newError(http.StatusForbidden, "forbidden", "you may not change a member or an application that holds permissions you do not")
	case errors.Is(err, manage.ErrNotOwned):
		return newError(http.StatusForbidden, "forbidden", "the tenant's administrators linked this application to the organization: only they can change or remove the link")
	case errors.Is(err, manage.ErrNoSecret):
		// RFC 9110 §15.5.10: the application's state, not the request,
		// is what stands in the way.
		return newError(http.StatusConflict, "no-client-secret",
			"the application authenticates without a client secret (a public client, or private_key_jwt with its JWK Set): there is no secret to rotate")
	case errors.Is(err, storage.ErrAlreadyExists):
		return newError(http.StatusConflict, "already-exists", "it already exists")
	case errors.Is(err, storage.ErrNotFound):
		return newError(http.StatusNotFound, "not-found", "no such resource")
	case errors.Is(err, storage.ErrUnavailable):
		// The log handler adds the request's request_id to both lines.
		h.log.WarnContext(r.Context(), "adminapi: store unavailable", slog.Any("error", err))
		return newError(http.StatusServiceUnavailable, "unavailable", "try again shortly")
	}
	h.log.ErrorContext(r.Context(), "adminapi: internal error",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	return newError(http.StatusInternalServerError, "internal", "")
}

// conflict says what already exists, naming the field that collides.
func conflict(err error, field, detail string) error {
	if errors.Is(err, storage.ErrAlreadyExists) {
		return fieldError(http.StatusConflict, "already-exists", field, detail)
	}
	return err
}

// notFound says what does not exist.
func notFound(err error, detail string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return newError(http.StatusNotFound, "not-found", detail)
	}
	return err
}
