package op

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// identityNoncesPath is where a client asks for the nonce of an identity
// token (DESIGN §3 "Identity tokens"), relative to the issuer.
const identityNoncesPath = "/identity/nonces"

const (
	// identityNonceTTL is how long a nonce may be used.
	identityNonceTTL = 10 * time.Minute
	// identityNonceKeep is how long a nonce is kept: past its expiry, so
	// that a late use is refused as "expired", not "unknown".
	identityNonceKeep = 2 * identityNonceTTL
	// identityNonceRate is how many nonces one client gets per minute.
	identityNonceRate = 600
)

// identityNonceResponse is the answer of identityNoncesPath.
type identityNonceResponse struct {
	Nonce     string `json:"nonce"`
	ExpiresIn int64  `json:"expires_in"`
}

// identityNonces issues a single-use nonce bound to the authenticated
// client. The client authenticates as at the token endpoint.
func (s *server) identityNonces(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		zop.WriteError(w, r, zop.NewStatusError(oidc.ErrInvalidRequest().WithDescription("use POST"), http.StatusMethodNotAllowed), nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		zop.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("the form cannot be parsed"), nil)
		return
	}
	ctx := r.Context()
	p := s.p
	tenant := tenantID(ctx)
	c, err := s.verifyFormClient(r.Context(), r.Method, r.URL, r.Header, r.Form)
	if err != nil {
		zop.WriteError(w, r, err, nil)
		return
	}
	if !zop.ValidateGrantType(c, oidc.GrantTypeBearer) {
		zop.WriteError(w, r, errBearerNotAllowed, nil)
		return
	}
	n, left, err := p.cfg.State.Hits(ctx, tenant, "idnonce", c.GetID(), 1, time.Minute)
	if err != nil {
		zop.WriteError(w, r, p.oauthError(ctx, err, "count nonces"), nil)
		return
	}
	if n > identityNonceRate {
		w.Header().Set("Retry-After", strconv.Itoa(int(left/time.Second)+1))
		zop.WriteError(w, r, zop.NewStatusError(&oidc.Error{ErrorType: "temporarily_unavailable",
			Description: "too many nonces requested; try again later"}, http.StatusTooManyRequests), nil)
		return
	}
	nonce := secure.Token()
	err = p.cfg.State.PutIdentityNonce(ctx, tenant, nonce, storage.IdentityNonce{
		ClientID: c.GetID(), ExpiresAt: p.now().Add(identityNonceTTL),
	}, identityNonceKeep)
	if err != nil {
		zop.WriteError(w, r, p.oauthError(ctx, err, "store nonce"), nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(identityNonceResponse{Nonce: nonce, ExpiresIn: int64(identityNonceTTL / time.Second)})
}

// errBearerNotAllowed refuses a client whose kind may not use identity
// tokens (RFC 6749 §5.2).
var errBearerNotAllowed = oidc.ErrUnauthorizedClient().WithDescription("this client may not use the jwt-bearer grant")

// verifyFormClient authenticates a client from a request's form and
// headers as the library does for the token endpoint (RFC 6749 §2.3:
// one method only, basic auth before the form), then through VerifyClient.
// The library leaves the jwt-bearer grant (and our own endpoints) without
// client authentication, so orgid does it here.
func (s *server) verifyFormClient(ctx context.Context, method string, u *url.URL, h http.Header, form url.Values) (*client, error) {
	cc := &zop.ClientCredentials{
		ClientID:            form.Get("client_id"),
		ClientSecret:        form.Get("client_secret"),
		ClientAssertion:     form.Get("client_assertion"),
		ClientAssertionType: form.Get("client_assertion_type"),
	}
	assertionAuth := cc.ClientAssertion != "" && cc.ClientAssertionType != ""
	secretAuth := cc.ClientSecret != "" && cc.ClientID != ""
	if assertionAuth && secretAuth {
		return nil, oidc.ErrInvalidRequest().WithDescription("client authentication must not use more than one method")
	}
	if id, secret, ok := (&http.Request{Header: h}).BasicAuth(); ok {
		if assertionAuth || secretAuth {
			return nil, oidc.ErrInvalidRequest().WithDescription("client authentication must not use more than one method")
		}
		var err1, err2 error
		cc.ClientID, err1 = url.QueryUnescape(id)
		cc.ClientSecret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, clientError("client authentication failed")
		}
	}
	if cc.ClientID == "" && cc.ClientAssertion == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("client_id or client_assertion must be provided")
	}
	if cc.ClientAssertion != "" && cc.ClientAssertionType != oidc.ClientAssertionTypeJWTAssertion {
		return nil, oidc.ErrInvalidRequest().WithDescription("client_assertion_type is not supported")
	}
	zc, err := s.VerifyClient(ctx, &zop.Request[zop.ClientCredentials]{Method: method, URL: u, Header: h, Form: form, Data: cc})
	if err != nil {
		return nil, err
	}
	c, ok := zc.(*client)
	if !ok {
		return nil, errors.New("op: VerifyClient returned a foreign client")
	}
	return c, nil
}
