package portal

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// authenticationRoutes are the Authentication tab (DESIGN §3 "Identity
// tokens"): the organization's Provider ID and its authentication keys —
// generate (the private key shown once, and downloadable once), register
// a public key, list, revoke (after a confirmation page).
//
// The private key PEM crosses the redirect after Generate key sealed in
// the ephemeral store (keepSecret), twice: once for the page, which shows
// it in a read-only textarea with a copy button, and once for the
// Download link, a same-origin GET that serves it as an attachment and
// forgets it. Each copy is read at most once and expires within minutes;
// a data: URL would need no second copy but is blocked by the pages'
// CSP, and the key is never stored anywhere else.
func (h *Handler) authenticationRoutes() []route {
	return []route{
		page("/authentication", "read:keys", h.getAuthentication),
		action("/authentication/keys", "write:keys", h.postGenerateKey),
		action("/authentication/keys/register", "write:keys", h.postRegisterKey),
		page("/authentication/keys/{kid}/private.pem", "write:keys", h.getPrivateKeyDownload),
		page("/authentication/keys/{kid}/revoke", "write:keys", h.getRevokeKey),
		action("/authentication/keys/{kid}/revoke", "write:keys", h.postRevokeKey),
	}
}

// authKeyAlgs are the algorithms orgid generates keys for, the default
// first.
var authKeyAlgs = []string{"ES256", "RS256", "EdDSA"}

// revealedKey is the page's copy of a generated key pair's private half.
type revealedKey struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	PEM string `json:"pem"`
	// Download is the reveal key of the download's own copy.
	Download string `json:"download"`
}

// downloadKey is the download's copy.
type downloadKey struct {
	KID string `json:"kid"`
	PEM string `json:"pem"`
}

type authenticationData struct {
	ProviderID string
	// NonceURL is where an application asks for an identity token's nonce;
	// DiscoveryURL names the token endpoint it posts the token to.
	NonceURL     string
	DiscoveryURL string
	Keys         []storage.AuthKey
	Next         string
	Algs         []string
	Revealed     *revealedKey
	CanWrite     bool
}

func (h *Handler) authPath(c *call, rel string) string {
	return h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/authentication"+rel)
}

func (h *Handler) getAuthentication(w http.ResponseWriter, r *http.Request, c *call) {
	list, next, err := h.m.ListAuthKeys(r.Context(), c.tenant.ID, c.org.Organization.ID, pageOf(r))
	if err != nil {
		h.listFail(w, r, c, "list authentication keys", err)
		return
	}
	issuer := strings.TrimSuffix(h.cfg.Issuer(c.tenant.ID), "/")
	d := &authenticationData{
		ProviderID:   c.org.Organization.ProviderID,
		NonceURL:     issuer + "/identity/nonces",
		DiscoveryURL: issuer + "/.well-known/openid-configuration",
		Keys:         list, Next: nextLink(r, next), Algs: authKeyAlgs, CanWrite: c.can("write:keys"),
	}
	var rev revealedKey
	if h.takeSecret(r, c, &rev) {
		d.Revealed = &rev
	}
	h.render(w, r, c, http.StatusOK, "authentication.html", "Authentication · "+c.org.Organization.Name, d)
}

// postGenerateKey makes a key pair; the next page shows its private key
// once.
func (h *Handler) postGenerateKey(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	alg := r.PostForm.Get("alg")
	k, err := h.m.CreateAuthKey(ctx, c.tenant.ID, c.actor(r), c.org.Organization.ID, manage.AuthKeyRequest{Alg: alg})
	if err != nil {
		h.refuse(w, r, c, h.authPath(c, ""), "generate", err)
		return
	}
	pem := string(k.PrivateKeyPEM)
	dl, err := h.keepSecret(ctx, c, downloadKey{KID: k.KID, PEM: pem})
	if err != nil {
		h.fail(w, r, c, "keep private key", err)
		return
	}
	key, err := h.keepSecret(ctx, c, revealedKey{KID: k.KID, Alg: k.Alg, PEM: pem, Download: dl})
	if err != nil {
		h.fail(w, r, c, "keep private key", err)
		return
	}
	h.done(w, r, h.authPath(c, "?reveal="+key), "key-created")
}

// postRegisterKey registers a public key the organization brings, as PEM
// or as a JWK (a JSON object).
func (h *Handler) postRegisterKey(w http.ResponseWriter, r *http.Request, c *call) {
	text := strings.TrimSpace(r.PostForm.Get("public_key"))
	var req manage.AuthKeyRequest
	switch {
	case text == "":
		h.refuseKey(w, r, c, fieldError("public_key", "Paste a public key: PEM or JWK."))
		return
	case strings.HasPrefix(text, "{"):
		req.PublicJWK = json.RawMessage(text)
	default:
		req.PublicKeyPEM = text
	}
	_, err := h.m.CreateAuthKey(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, req)
	var fe *storage.FieldError
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		err = fieldError("public_key", "A key with this kid is registered already.")
	case errors.As(err, &fe):
		// manage names public_key_pem, public_jwk or alg: here they are all
		// the one textarea.
		err = fieldError("public_key", sentence("public_key_pem", fe.Message))
	}
	if err != nil {
		h.refuseKey(w, r, c, err)
		return
	}
	h.done(w, r, h.authPath(c, ""), "key-registered")
}

// refuseKey refuses the register form. A private key pasted by mistake is
// refused (keys.ParsePublicAuthKey) and is not kept to be shown again.
func (h *Handler) refuseKey(w http.ResponseWriter, r *http.Request, c *call, err error) {
	if v := r.PostForm.Get("public_key"); strings.Contains(v, "PRIVATE") || strings.Contains(v, `"d"`) {
		r.PostForm.Del("public_key")
	}
	h.refuse(w, r, c, h.authPath(c, ""), "register", err)
}

// getPrivateKeyDownload serves the download copy of a generated private
// key, once: afterwards (or after a few minutes) the link is gone (410).
func (h *Handler) getPrivateKeyDownload(w http.ResponseWriter, r *http.Request, c *call) {
	kid := mux.Vars(r)["kid"]
	var dl downloadKey
	if !h.takeSecret(r, c, &dl) || dl.KID != kid {
		h.render(w, r, c, http.StatusGone, "message.html", "Download expired", &messageData{
			Heading: "Download expired",
			Text:    "A private key can be downloaded once, within a few minutes of generating it. orgid does not keep it: if it is lost, revoke the key and generate a new one.",
			Link:    &link{Href: h.authPath(c, ""), Text: "Back to Authentication"},
		})
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/x-pem-file")
	hd.Set("Content-Disposition", `attachment; filename="`+kid+`.pem"`)
	hd.Set("Content-Length", strconv.Itoa(len(dl.PEM)))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(dl.PEM))
}

type revokeKeyData struct {
	Key storage.AuthKey
}

func (h *Handler) getRevokeKey(w http.ResponseWriter, r *http.Request, c *call) {
	k, org, err := h.cfg.Store.GetAuthKey(r.Context(), c.tenant.ID, mux.Vars(r)["kid"])
	if errors.Is(err, storage.ErrNotFound) || err == nil && org.ID != c.org.Organization.ID {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.fail(w, r, c, "load authentication key", err)
		return
	}
	h.render(w, r, c, http.StatusOK, "key_revoke.html", "Revoke key · "+c.org.Organization.Name, &revokeKeyData{Key: k})
}

func (h *Handler) postRevokeKey(w http.ResponseWriter, r *http.Request, c *call) {
	kid := mux.Vars(r)["kid"]
	err := h.m.RevokeAuthKey(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, kid)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if errors.Is(err, storage.ErrConflict) {
		err = formError("This key is revoked already.")
	}
	if err != nil {
		h.refuse(w, r, c, h.authPath(c, "/keys/"+kid+"/revoke"), "revoke", err)
		return
	}
	h.done(w, r, h.authPath(c, ""), "key-revoked")
}
