package server

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/adminapi"
	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/internal/metrics"
	"github.com/orgid/orgid/internal/storecall"
	"github.com/orgid/orgid/internal/usage"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/login"
	"github.com/orgid/orgid/op"
	"github.com/orgid/orgid/storage"
)

// Options are what New needs beyond the configuration. Tests set the
// clock and may hand in stores of their own (e.g. one that fails).
type Options struct {
	Config config.Config
	Logger *slog.Logger
	// Now is the clock of everything time-dependent; nil means time.Now.
	Now func() time.Time
	// Store and Ephemeral, when set, are used instead of the ones the
	// configuration names; Close does not close them.
	Store     storage.Store
	Ephemeral storage.Ephemeral
	// MailPollInterval and MailMinBackoff, when set, replace the mail
	// sender's defaults (mail.DefaultPollInterval, DefaultMinBackoff) so
	// that tests see mail, and its retries, quickly.
	MailPollInterval time.Duration
	MailMinBackoff   time.Duration
}

// Server is an assembled orgid.
type Server struct {
	Config   config.Config
	Store    storage.Store
	State    storage.State
	Keys     *keys.Manager
	Provider *op.Provider
	// Manage runs management operations (the APIs call it; tests may too).
	Manage *manage.Service
	// Outbox queues mail in the durable outbox.
	Outbox *mail.Outbox
	// Metrics is what /metrics serves.
	Metrics *metrics.Metrics
	Handler http.Handler

	log     *slog.Logger
	now     func() time.Time
	closers []func() error
	stopGC  context.CancelFunc
	gcDone  chan struct{}
	// usage writes what op counted for billing (usage.go).
	usage *usage.Batcher
}

// New builds orgid. On error everything opened so far is closed again.
func New(ctx context.Context, o Options) (_ *Server, err error) {
	s := &Server{Config: o.Config, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	// Every line logged with a request's context names the request.
	s.log = slog.New(httpx.NewLogHandler(s.log.Handler()))
	if s.now == nil {
		s.now = time.Now
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	cfg := &s.Config
	s.Metrics = metrics.New()

	// The key is read before any store is opened, so a bad key changes
	// nothing (no file created, no migration run).
	masterKey, created, err := loadMasterKey(cfg)
	if err != nil {
		return nil, err
	}
	if created {
		s.log.Warn("generated a new master key; keep it safe and back it up with the data, or set ORGID_MASTER_KEY",
			slog.String("path", masterKeyPath(cfg)))
	}
	if s.Store = o.Store; s.Store == nil {
		if s.Store, err = openStore(ctx, cfg); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, s.Store.Close)
	}
	// Everything uses the wrapped store: each call has a deadline and is
	// measured (internal/storecall).
	s.Store = storecall.Durable(s.Store, backendOf(s.Store), cfg.StoreTimeout, s.Metrics)
	// The outbox backlog gauge counts at scrape time under its own short
	// deadline, so a scrape never hangs on an outage.
	s.Metrics.RegisterMailBacklog(s.Store.CountPendingMail, s.log)
	sealer, err := checkedSealer(ctx, cfg, s.Store, masterKey)
	if err != nil {
		return nil, err
	}

	eph := o.Ephemeral
	if eph == nil {
		if eph, err = openEphemeral(ctx, cfg, s.now); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, eph.Close)
	}
	eph = storecall.Ephemeral(eph, backendOf(eph), cfg.StoreTimeout, s.Metrics)
	s.State = storage.State{KV: eph}

	s.Outbox = mail.NewOutbox(sealer, s.now)
	if err := s.startMail(o, sealer); err != nil {
		return nil, err
	}

	s.Keys = keys.NewManager(s.Store, sealer, keys.WithClock(s.now), keys.WithRetention(retention(cfg)))

	if err := s.bootstrap(ctx); err != nil {
		return nil, err
	}

	s.Provider, err = op.New(op.Config{
		ExternalURL:     cfg.ExternalURL,
		AccessTokenAlg:  cfg.AccessTokenAlg,
		Store:           s.Store,
		State:           s.State,
		Keys:            s.Keys,
		Now:             s.now,
		AccessTokenTTL:  cfg.AccessTokenTTL,
		IDTokenTTL:      cfg.IDTokenTTL,
		RefreshTokenTTL: cfg.RefreshTokenTTL,
		CodeTTL:         cfg.CodeTTL,
		AuthRequestTTL:  cfg.AuthRequestTTL,
		IDTokenMaxOrgs:  cfg.IDTokenMaxOrgs,
		CryptoKey:       [32]byte(derive(masterKey, "zitadel-oidc-crypto")),
		Logger:          s.log,
		TokenRateClient: op.RateLimit(cfg.TokenRateClient),
		TokenRateIP:     op.RateLimit(cfg.TokenRateIP),
		Metrics:         s.Metrics,
		Usage:           s.startUsage(),
	})
	if err != nil {
		return nil, err
	}
	pages, err := login.New(login.Config{
		Store:          s.Store,
		State:          s.State,
		Flow:           s.Provider,
		ExternalURL:    cfg.ExternalURL,
		CSRFKey:        derive(masterKey, "csrf"),
		Sealer:         sealer,
		Mail:           s.Outbox,
		Now:            s.now,
		AuthRequestTTL: cfg.AuthRequestTTL,
		SessionTTL:     cfg.SessionTTL,
		Logger:         s.log,
	})
	if err != nil {
		return nil, err
	}
	s.Manage = manage.New(manage.Config{
		Store:              s.Store,
		Now:                s.now,
		Mail:               s.Outbox,
		ExternalURL:        cfg.ExternalURL,
		Sealer:             sealer,
		SetupTenant:        s.EnsureTenant,
		Template:           EnsureTemplate,
		ApplicationDeleted: s.Provider.ForgetClient,
		ApplicationChanged: s.Provider.ForgetClient,
		AuthKeyRevoked:     s.Provider.ForgetAuthKey,
		Logger:             s.log,
	})
	api := adminapi.New(adminapi.Config{
		Manage:               s.Manage,
		Verifier:             apiTokens{s.Provider},
		Issuer:               s.Provider.Issuer,
		OrganizationAudience: op.OrganizationAudience,
		Logger:               s.log,
	})
	portalPages, err := s.newPortal(masterKey, sealer)
	if err != nil {
		return nil, err
	}
	s.Handler = s.routes(pages, portalPages, api)
	s.startGC()
	return s, nil
}

// derive makes an independent 32-byte key for one purpose from the master
// key (HKDF-SHA256), so no two uses share key material.
func derive(masterKey []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, masterKey, nil, "orgid "+purpose, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	return k
}

// loadMasterKey returns ORGID_MASTER_KEY, or for the embedded store the
// key file in the data dir (generated on first use; created reports that).
func loadMasterKey(cfg *config.Config) (key []byte, created bool, err error) {
	if cfg.MasterKey != "" {
		k, err := keys.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return nil, false, fmt.Errorf("ORGID_MASTER_KEY: %w", err)
		}
		return k, false, nil
	}
	if isPostgres(cfg.DatabaseURL) {
		return nil, false, errors.New("ORGID_MASTER_KEY is required with PostgreSQL: every replica must use the same key " +
			"(generate one with: openssl rand -base64 32)")
	}
	k, created, err := keys.LoadOrCreateMasterKey(cfg.DataDir)
	if err != nil {
		return nil, false, fmt.Errorf("master key: %w", err)
	}
	return k, created, nil
}

// checkedSealer returns the sealer of masterKey after checking that it is
// the key the store's data was sealed with.
func checkedSealer(ctx context.Context, cfg *config.Config, st storage.Store, masterKey []byte) (*keys.Sealer, error) {
	sealer, err := keys.NewSealer(masterKey)
	if err != nil {
		return nil, err
	}
	if err := keys.CheckMasterKey(ctx, st, sealer); err != nil {
		if errors.Is(err, keys.ErrWrongMasterKey) && cfg.MasterKey != "" {
			return nil, fmt.Errorf("%w\n(a key generated earlier would be in %s)", err, masterKeyPath(cfg))
		}
		if errors.Is(err, keys.ErrWrongMasterKey) {
			return nil, fmt.Errorf("%w\n(the key in use was read from %s)", err, masterKeyPath(cfg))
		}
		return nil, fmt.Errorf("check master key: %w", err)
	}
	return sealer, nil
}

// retention is how long a retired signing key stays published: until
// every token it signed has expired, and every replica has stopped
// signing with it.
func retention(cfg *config.Config) time.Duration {
	return max(cfg.AccessTokenTTL, cfg.IDTokenTTL) + keys.DefaultCacheTTL + 5*time.Minute
}

func masterKeyPath(cfg *config.Config) string {
	return strings.TrimSuffix(cfg.DataDir, "/") + "/" + keys.MasterKeyFile
}

// Close stops background work and closes the stores New opened.
func (s *Server) Close() error {
	if s.stopGC != nil {
		s.stopGC()
		<-s.gcDone
	}
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// startGC removes expired refresh tokens and revocations now and then.
// Every replica may do it; the deletes are idempotent.
func (s *Server) startGC() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopGC, s.gcDone = cancel, make(chan struct{})
	go func() {
		defer close(s.gcDone)
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.Store.DeleteExpired(ctx, s.now()); err != nil && ctx.Err() == nil {
					s.log.Warn("delete expired tokens", slog.Any("error", err))
				}
			}
		}
	}()
}

// startMail starts the sender that drains the outbox, over SMTP or into
// the log, and has the Outbox wake it. Close stops it before the stores
// close.
func (s *Server) startMail(o Options, sealer mail.Sealer) error {
	transport := mail.NewLogTransport(s.log)
	if s.Config.SMTPURL != "" {
		var err error
		if transport, err = mail.NewSMTPTransport(s.Config.SMTPURL, s.Config.MailFrom); err != nil {
			return fmt.Errorf("ORGID_SMTP_URL: %w", err)
		}
	} else {
		s.log.Info("no ORGID_SMTP_URL: mail is written to the log (links included) and kept in the outbox")
	}
	sender, err := mail.NewSender(mail.SenderConfig{
		Store: s.Store, Sealer: sealer, Transport: transport, Now: s.now, Logger: s.log,
		PollInterval: o.MailPollInterval, MinBackoff: o.MailMinBackoff,
	})
	if err != nil {
		return err
	}
	s.Outbox.OnEnqueue(sender.Kick)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sender.Run(ctx)
	}()
	s.closers = append(s.closers, func() error { cancel(); <-done; return nil })
	return nil
}

// apiTokens lets the APIs verify access tokens without importing op.
type apiTokens struct{ p *op.Provider }

func (a apiTokens) Verify(ctx context.Context, tenantID, raw string) (adminapi.Token, error) {
	t, err := a.p.VerifyAccessToken(ctx, tenantID, raw)
	if errors.Is(err, op.ErrInvalidToken) {
		return adminapi.Token{}, adminapi.ErrInvalidToken
	}
	if err != nil {
		return adminapi.Token{}, err
	}
	return adminapi.Token{Subject: t.Subject, ClientID: t.ClientID, Audience: t.Audience, Scopes: t.Scopes, OrganizationID: t.OrganizationID}, nil
}
