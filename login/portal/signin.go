package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// The portal signs people in as an OpenID Connect relying party of its
// own tenant: authorization code with PKCE (RFC 7636) and a nonce, the
// code exchanged with the client's secret, the ID token verified against
// the tenant's JWKS. The browser's flow is bound to it by a cookie that
// holds the state (OAuth 2.0 Security BCP, RFC 9700 §4.7.1).

const (
	// flowTTL is how long a started sign-in may take.
	flowTTL     = 30 * time.Minute
	flowCookie  = "orgid_portal_flow"
	sessCookie  = "orgid_portal"
	callbackRel = "/portal/callback"
)

// flow is a sign-in the portal started, stored under its state.
type flow struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	ReturnTo string `json:"return_to"`
}

// session is a signed-in portal browser.
type session struct {
	UserID    string    `json:"user_id"`
	IDToken   string    `json:"id_token"`
	CreatedAt time.Time `json:"created_at"`
}

func flowKey(tenantID, state string) string { return hashedKey(tenantID, "portal-flow", state) }
func sessionKey(tenantID, id string) string { return hashedKey(tenantID, "portal-session", id) }

// hashedKey keeps secrets out of ephemeral-store keys (storage.State does
// the same for its own records).
func hashedKey(tenantID, kind, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "t/" + tenantID + "/" + kind + "/" + hex.EncodeToString(sum[:])
}

// relyingParty holds the discovered provider of each tenant.
type relyingParty struct {
	cfg Config
	mu  sync.Mutex
	// providers caches discovery and the JWKS (go-oidc's remote key set
	// refetches on an unknown kid, so rotation needs no restart).
	providers map[string]*discovered
}

// discovered is a tenant's provider as discovery described it.
type discovered struct {
	p          *oidc.Provider
	endSession string
}

func newRelyingParty(cfg Config) *relyingParty {
	return &relyingParty{cfg: cfg, providers: map[string]*discovered{}}
}

// provider discovers the tenant's endpoints once. The context it is made
// with stays in go-oidc's key set for later JWKS fetches, so it is a
// background one carrying the in-process client, not the request's.
func (rp *relyingParty) provider(ctx context.Context, tenantID string) (*discovered, error) {
	rp.mu.Lock()
	d, ok := rp.providers[tenantID]
	rp.mu.Unlock()
	if ok {
		return d, nil
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, rp.cfg.HTTPClient), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, rp.cfg.Issuer(tenantID))
	if err != nil {
		return nil, fmt.Errorf("portal: discover %s: %w", tenantID, err)
	}
	// Rebuild with a long-lived context for the key set.
	var pc oidc.ProviderConfig
	if err := p.Claims(&pc); err != nil {
		return nil, fmt.Errorf("portal: discovery of %s: %w", tenantID, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, fmt.Errorf("portal: discovery of %s: %w", tenantID, err)
	}
	d = &discovered{p: pc.NewProvider(oidc.ClientContext(context.Background(), rp.cfg.HTTPClient)), endSession: extra.EndSession}
	rp.mu.Lock()
	rp.providers[tenantID] = d
	rp.mu.Unlock()
	return d, nil
}

func (rp *relyingParty) oauth2(ctx context.Context, tenantID string) (*oauth2.Config, *discovered, error) {
	d, err := rp.provider(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	cl, err := rp.cfg.Client(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	return &oauth2.Config{
		ClientID:     cl.ID,
		ClientSecret: cl.Secret,
		Endpoint:     d.p.Endpoint(),
		RedirectURL:  strings.TrimSuffix(rp.cfg.ExternalURL, "/") + "/t/" + url.PathEscape(tenantID) + callbackRel,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}, d, nil
}

// getLogin starts a sign-in; return_to is where to go afterwards (a path
// of this tenant's pages).
func (h *Handler) getLogin(w http.ResponseWriter, r *http.Request) {
	tenant, ok := httpx.Tenant(r.Context())
	if !ok {
		h.fail(w, r, nil, "no tenant", errors.New("portal: no tenant in context"))
		return
	}
	h.startSignIn(w, r, tenant.ID, h.safeReturn(tenant.ID, r.URL.Query().Get("return_to")))
}

// safeReturn keeps return_to only when it is a path of this tenant's
// signed-in pages, so the sign-in cannot be turned into an open redirect.
func (h *Handler) safeReturn(tenantID, to string) string {
	home := h.path(tenantID, "/portal")
	u, err := url.Parse(to)
	if to == "" || err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(to, "//") || strings.Contains(to, "\\") {
		return home
	}
	for _, prefix := range []string{h.path(tenantID, "/portal"), h.path(tenantID, "/account")} {
		if u.Path == prefix || strings.HasPrefix(u.Path, prefix+"/") {
			return u.RequestURI()
		}
	}
	return home
}

func (h *Handler) startSignIn(w http.ResponseWriter, r *http.Request, tenantID, returnTo string) {
	ctx := r.Context()
	oc, _, err := h.rp.oauth2(ctx, tenantID)
	if err != nil {
		h.fail(w, r, nil, "start sign-in", err)
		return
	}
	state, f := secure.Token(), flow{Verifier: oauth2.GenerateVerifier(), Nonce: secure.Token(), ReturnTo: returnTo}
	b, _ := json.Marshal(f)
	if err := h.cfg.State.KV.Set(ctx, flowKey(tenantID, state), b, flowTTL); err != nil {
		h.fail(w, r, nil, "store sign-in", err)
		return
	}
	http.SetCookie(w, h.cookie(flowCookie, tenantID, state, flowTTL))
	h.seeOther(w, r, oc.AuthCodeURL(state, oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce)))
}

// getCallback finishes a sign-in: the state must be the browser's own,
// the code is exchanged and the ID token verified.
func (h *Handler) getCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenant, _ := httpx.Tenant(ctx)
	q := r.URL.Query()
	state := q.Get("state")
	ck, err := r.Cookie(h.cookieName(flowCookie, tenant.ID))
	if state == "" || err != nil || !secure.EqualString(ck.Value, state) {
		h.message(w, r, http.StatusBadRequest, "Sign-in expired", "This sign-in has expired or was started in another browser.",
			&link{Href: h.path(tenant.ID, "/portal"), Text: "Sign in again"})
		return
	}
	http.SetCookie(w, h.cookie(flowCookie, tenant.ID, "", 0))
	raw, err := h.cfg.State.KV.Get(ctx, flowKey(tenant.ID, state))
	if errors.Is(err, storage.ErrNotFound) {
		h.message(w, r, http.StatusBadRequest, "Sign-in expired", "This sign-in has expired.",
			&link{Href: h.path(tenant.ID, "/portal"), Text: "Sign in again"})
		return
	}
	if err != nil {
		h.fail(w, r, nil, "load sign-in", err)
		return
	}
	if err := h.cfg.State.KV.Delete(ctx, flowKey(tenant.ID, state)); err != nil {
		h.fail(w, r, nil, "spend sign-in", err)
		return
	}
	var f flow
	if err := json.Unmarshal(raw, &f); err != nil {
		h.fail(w, r, nil, "decode sign-in", err)
		return
	}
	if e := q.Get("error"); e != "" {
		// The user cancelled, or the provider refused (an organization
		// that requires MFA is not asked for here: the portal signs in
		// without organization=).
		h.log.InfoContext(ctx, "portal: sign-in refused", "tenant", tenant.ID, "error", e)
		h.message(w, r, http.StatusForbidden, "Not signed in", "The sign-in did not complete.",
			&link{Href: h.path(tenant.ID, "/portal"), Text: "Try again"})
		return
	}
	oc, d, err := h.rp.oauth2(ctx, tenant.ID)
	if err != nil {
		h.fail(w, r, nil, "sign-in", err)
		return
	}
	tctx := oidc.ClientContext(ctx, h.cfg.HTTPClient)
	tok, err := oc.Exchange(tctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.fail(w, r, nil, "exchange code", err)
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := d.p.Verifier(&oidc.Config{ClientID: oc.ClientID, Now: h.cfg.Now}).Verify(tctx, rawID)
	if err != nil {
		h.fail(w, r, nil, "verify ID token", err)
		return
	}
	if !secure.EqualString(idt.Nonce, f.Nonce) {
		h.fail(w, r, nil, "verify ID token", errors.New("portal: nonce mismatch"))
		return
	}
	// A fresh session ID, never one the browser offered.
	if old := h.sessionID(r, tenant.ID); old != "" {
		_ = h.cfg.State.KV.Delete(ctx, sessionKey(tenant.ID, old))
	}
	sid := secure.Token()
	b, _ := json.Marshal(session{UserID: idt.Subject, IDToken: rawID, CreatedAt: h.cfg.Now()})
	if err := h.cfg.State.KV.Set(ctx, sessionKey(tenant.ID, sid), b, h.cfg.SessionTTL); err != nil {
		h.fail(w, r, nil, "store session", err)
		return
	}
	http.SetCookie(w, h.cookie(sessCookie, tenant.ID, sid, h.cfg.SessionTTL))
	h.seeOther(w, r, f.ReturnTo)
}

// postLogout ends the portal session and then the single sign-on session
// at the provider (RP-initiated logout), which shows "signed out".
func (h *Handler) postLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tenant, _ := httpx.Tenant(ctx)
	if !h.checkCSRF(w, r) {
		return
	}
	var hint string
	if sid := h.sessionID(r, tenant.ID); sid != "" {
		if s, err := h.loadSession(ctx, tenant.ID, sid); err == nil && s != nil {
			hint = s.IDToken
		}
		if err := h.cfg.State.KV.Delete(ctx, sessionKey(tenant.ID, sid)); err != nil {
			h.fail(w, r, nil, "end session", err)
			return
		}
	}
	http.SetCookie(w, h.cookie(sessCookie, tenant.ID, "", 0))
	d, err := h.rp.provider(ctx, tenant.ID)
	if err != nil || d.endSession == "" {
		h.seeOther(w, r, h.path(tenant.ID, "/logged-out"))
		return
	}
	v := url.Values{}
	if hint != "" {
		v.Set("id_token_hint", hint)
	}
	h.seeOther(w, r, d.endSession+"?"+v.Encode())
}

func (h *Handler) loadSession(ctx context.Context, tenantID, sid string) (*session, error) {
	b, err := h.cfg.State.KV.Get(ctx, sessionKey(tenantID, sid))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := new(session)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return s, nil
}

// cookieName is per tenant, and host-only over https (the __Host- prefix).
func (h *Handler) cookieName(name, tenantID string) string {
	if h.secure {
		return "__Host-" + name + "_" + tenantID
	}
	return name + "_" + tenantID
}

func (h *Handler) cookie(name, tenantID, value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{Name: h.cookieName(name, tenantID), Value: value, Path: "/", HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode}
	if ttl > 0 {
		c.MaxAge = int(ttl / time.Second)
	} else {
		c.Value, c.MaxAge = "", -1
	}
	return c
}

func (h *Handler) sessionID(r *http.Request, tenantID string) string {
	ck, err := r.Cookie(h.cookieName(sessCookie, tenantID))
	if err != nil || len(ck.Value) != secure.TokenLen {
		return ""
	}
	return ck.Value
}
