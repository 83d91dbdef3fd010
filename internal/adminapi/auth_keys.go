package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// An organization's authentication keys (DESIGN §3 "Identity tokens",
// §4): made by orgid, whose private key is in the creation answer only,
// or registered as a public key; listed and revoked.

// authKeyRequest is {alg?} to have orgid make a pair, or
// {public_key_pem} / {public_jwk} (with alg?) to register a public key.
type authKeyRequest struct {
	Alg          string          `json:"alg"`
	PublicKeyPEM string          `json:"public_key_pem"`
	PublicJWK    json.RawMessage `json:"public_jwk"`
}

// createdAuthKeyView is the creation answer: the only one that ever holds
// a private key.
type createdAuthKeyView struct {
	KID           string          `json:"kid"`
	Alg           string          `json:"alg"`
	Status        string          `json:"status"`
	PrivateKeyPEM string          `json:"private_key_pem,omitempty"`
	PublicJWK     json.RawMessage `json:"public_jwk"`
	CreatedAt     time.Time       `json:"created_at"`
}

// authKeyView is a listed key: no key material at all.
type authKeyView struct {
	KID        string     `json:"kid"`
	Alg        string     `json:"alg"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func viewAuthKey(k storage.AuthKey) authKeyView {
	return authKeyView{KID: k.KID, Alg: k.Alg, Status: string(k.Status), CreatedAt: k.CreatedAt.UTC(),
		LastUsedAt: optionalTime(k.LastUsedAt), RevokedAt: optionalTime(k.RevokedAt)}
}

// optionalTime is t in UTC, or nil (JSON null) for the zero time.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

const msgNoAuthKey = "no such organization, or it has no key with this kid"

func (h *Handler) createAuthKey(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body authKeyRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	k, err := h.m.CreateAuthKey(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], manage.AuthKeyRequest{
		Alg: body.Alg, PublicKeyPEM: body.PublicKeyPEM, PublicJWK: body.PublicJWK,
	})
	if err != nil {
		return 0, nil, notFound(conflict(err, "public_jwk", "the tenant has a key with this kid already"), msgNoOrganization)
	}
	return http.StatusCreated, createdAuthKeyView{KID: k.KID, Alg: k.Alg, Status: string(k.Status),
		PrivateKeyPEM: string(k.PrivateKeyPEM), PublicJWK: k.PublicJWK, CreatedAt: k.CreatedAt.UTC()}, nil
}

func (h *Handler) listAuthKeys(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.AuthKey, string, error) {
		list, next, err := h.m.ListAuthKeys(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"], p)
		return list, next, notFound(err, msgNoOrganization)
	}, viewAuthKey)
}

func (h *Handler) revokeAuthKey(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	err := h.m.RevokeAuthKey(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["kid"])
	if errors.Is(err, storage.ErrConflict) {
		return 0, nil, newError(http.StatusConflict, "already-revoked", "the key is revoked already")
	}
	if err != nil {
		return 0, nil, notFound(err, msgNoAuthKey)
	}
	return http.StatusNoContent, nil, nil
}
