package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/login/portal"
	"github.com/orgid/orgid/storage"
)

// PortalClientID is the client ID of the portal's application in every
// tenant: a first-party web client that orgid makes itself the first time
// someone opens the tenant's portal.
const PortalClientID = "orgid-portal"

// portalClients ensures each tenant's portal application. Its secret is
// derived from the master key and the tenant, so every replica knows it
// without storing it anywhere but as the usual hash.
type portalClients struct {
	s   *Server
	key []byte // derive(masterKey, "portal-client")
	mu  sync.Mutex
	// checked is when each tenant's application was last seen right: it
	// is checked again after a minute, so that one deleted through the
	// API comes back.
	checked map[string]time.Time
}

func (p *portalClients) secret(tenantID string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(tenantID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// client returns the tenant's portal client, creating or repairing its
// application (its redirect URI follows the external URL).
func (p *portalClients) client(ctx context.Context, tenantID string) (portal.Client, error) {
	cl := portal.Client{ID: PortalClientID, Secret: p.secret(tenantID)}
	now := p.s.now()
	p.mu.Lock()
	at, ok := p.checked[tenantID]
	p.mu.Unlock()
	if ok && now.Sub(at) < time.Minute {
		return cl, nil
	}
	want := storage.Application{
		TenantID: tenantID, ClientID: PortalClientID, Name: "orgid portal", Type: storage.AppWeb,
		SecretHash:   secure.Hash(cl.Secret),
		RedirectURIs: []string{p.s.Provider.Issuer(tenantID) + "/portal/callback"},
		CreatedAt:    now,
	}
	err := p.s.Store.WithTx(ctx, func(tx storage.Store) error {
		have, err := tx.GetApplication(ctx, tenantID, PortalClientID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return err
		case have.Type == want.Type && slices.Equal(have.RedirectURIs, want.RedirectURIs) && secure.Equal(have.SecretHash, want.SecretHash):
			return nil
		default:
			if err := tx.DeleteApplication(ctx, tenantID, PortalClientID); err != nil {
				return err
			}
		}
		return tx.CreateApplication(ctx, want)
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		err = nil // another replica made it at the same moment
	}
	if err != nil {
		return portal.Client{}, err
	}
	p.s.Provider.ForgetClient(tenantID, PortalClientID)
	p.mu.Lock()
	p.checked[tenantID] = now
	p.mu.Unlock()
	return cl, nil
}

// newPortal builds the portal, a client of this server's own endpoints
// through an in-process transport.
func (s *Server) newPortal(masterKey []byte, sealer portal.Sealer) (*portal.Handler, error) {
	rt, err := httpx.InProcess(s.Config.ExternalURL, func() http.Handler { return s.Handler })
	if err != nil {
		return nil, err
	}
	clients := &portalClients{s: s, key: derive(masterKey, "portal-client"), checked: map[string]time.Time{}}
	return portal.New(portal.Config{
		Store:       s.Store,
		State:       s.State,
		Manage:      s.Manage,
		ExternalURL: s.Config.ExternalURL,
		CSRFKey:     derive(masterKey, "csrf"),
		Sealer:      sealer,
		Issuer:      s.Provider.Issuer,
		Client:      clients.client,
		HTTPClient:  &http.Client{Transport: rt, Timeout: 15 * time.Second},
		Now:         s.now,
		Logger:      s.log,
	})
}
