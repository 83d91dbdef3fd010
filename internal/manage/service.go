package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Config is what a Service needs.
type Config struct {
	Store storage.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Mail queues invitation messages in the durable outbox, inside the
	// transaction that creates or renews the invitation.
	Mail *mail.Outbox
	// ExternalURL is the public base URL that mail links start with.
	ExternalURL string
	// Sealer opens the sealed bodies of outbox messages for the console.
	Sealer mail.Sealer
	// SetupTenant makes a new tenant ready to serve: signing keys and the
	// organization template. It must be idempotent (server.EnsureTenant).
	SetupTenant func(ctx context.Context, tenantID, name string) error
	// Template writes the built-in organization template of a tenant
	// through st (server.EnsureTemplate), so that a new tenant gets it in
	// the same transaction that creates the tenant.
	Template func(ctx context.Context, st storage.TemplateStore, tenantID string, now time.Time) error
	// ApplicationDeleted, when set, is told of each deleted application
	// after the deletion committed, so caches of it can be dropped.
	ApplicationDeleted func(tenantID, clientID string)
	// ApplicationChanged, when set, is told of each application whose
	// credentials changed (a secret rotated) after the change committed,
	// so that caches of it can be dropped and the old secret is refused
	// at once.
	ApplicationChanged func(tenantID, clientID string)
	// AuthKeyRevoked, when set, is told of each revoked authentication
	// key after the revocation committed, so that caches of it can be
	// dropped and identity tokens it signs are refused at once.
	AuthKeyRevoked func(tenantID, kid string)
	Logger         *slog.Logger
}

// Service runs management operations. It is safe for concurrent use.
type Service struct {
	store      storage.Store
	now        func() time.Time
	setup      func(ctx context.Context, tenantID, name string) error
	template   func(ctx context.Context, st storage.TemplateStore, tenantID string, now time.Time) error
	appGone    func(tenantID, clientID string)
	appChanged func(tenantID, clientID string)
	// authKeyRevoked is Config.AuthKeyRevoked.
	authKeyRevoked func(tenantID, kid string)
	mail           *mail.Outbox
	externalURL    string
	sealer         mail.Sealer
	log            *slog.Logger
}

// New returns a Service.
func New(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{store: cfg.Store, setup: cfg.SetupTenant, template: cfg.Template, appGone: cfg.ApplicationDeleted,
		appChanged: cfg.ApplicationChanged, authKeyRevoked: cfg.AuthKeyRevoked, log: cfg.Logger,
		mail: cfg.Mail, externalURL: cfg.ExternalURL, sealer: cfg.Sealer}
	// The stores keep times to the microsecond: cut them there before
	// they are stored, so that the answer to a change shows the same
	// created_at (joined_at...) as every later read of it.
	s.now = func() time.Time { return now().Truncate(time.Microsecond) }
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Actor is who asks for an operation and in which request: the audit log
// records both.
type Actor struct {
	// ID is a client ID (an application's token) or a user ID.
	ID string
	// RequestID ties the audit entry to the request's logs.
	RequestID string
	// Limit, when not nil, restricts an organization member acting
	// through the self-service API: they may grant only roles whose
	// permissions they hold themselves, and may change or remove only
	// members and applications whose permissions they hold. They may
	// link, change and unlink only applications their organization owns:
	// a tenant-wide application's links are the tenant administrators'.
	// A tenant admin has no limit.
	Limit *Limit
}

// Limit is what a member acting on their own organization may grant.
type Limit struct {
	Permissions []string
}

// change describes one audited change.
type change struct {
	tenant string
	action string
	target string
	// details is marshalled into the audit entry; nil means {}.
	details any
}

// write runs fn and appends the audit entry of c in one transaction:
// either both are stored or neither is. fn may fill in c's details.
func (s *Service) write(ctx context.Context, a Actor, c *change, fn func(tx storage.Store) error) error {
	return s.store.WithTx(ctx, func(tx storage.Store) error {
		if err := fn(tx); err != nil {
			return err
		}
		details := json.RawMessage("{}")
		if c.details != nil {
			b, err := json.Marshal(c.details)
			if err != nil {
				return fmt.Errorf("manage: audit details of %s: %w", c.action, err)
			}
			details = b
		}
		return tx.AppendAudit(ctx, storage.AuditEntry{
			TenantID:  c.tenant,
			ID:        secure.ID("aud"),
			Actor:     a.ID,
			Action:    c.action,
			Target:    c.target,
			RequestID: a.RequestID,
			Details:   details,
			CreatedAt: s.now(),
		})
	})
}
