package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// bootstrap makes what must exist from the first start: tenant default with
// its signing keys, and the bootstrap management client when configured.
// Every step is idempotent, so replicas starting together are fine.
func (s *Server) bootstrap(ctx context.Context) error {
	if err := s.EnsureTenant(ctx, storage.DefaultTenant, "Default"); err != nil {
		return err
	}
	cfg := s.Config
	if cfg.BootstrapClientID == "" {
		return nil
	}
	app := storage.Application{
		TenantID:    storage.DefaultTenant,
		ClientID:    cfg.BootstrapClientID,
		Name:        "Bootstrap admin",
		Type:        storage.AppM2M,
		SecretHash:  secure.Hash(cfg.BootstrapClientSecret),
		TenantRoles: []string{storage.TenantRoleAdmin},
		CreatedAt:   s.now(),
	}
	if err := app.Validate(); err != nil {
		return fmt.Errorf("bootstrap client: %w", err)
	}
	err := s.Store.CreateApplication(ctx, app)
	if errors.Is(err, storage.ErrAlreadyExists) {
		existing, gerr := s.Store.GetApplication(ctx, storage.DefaultTenant, cfg.BootstrapClientID)
		if gerr != nil {
			return fmt.Errorf("bootstrap client: %w", gerr)
		}
		if !bytes.Equal(existing.SecretHash, app.SecretHash) {
			s.log.Warn("bootstrap client exists with a different secret; keeping the stored one",
				slog.String("client_id", cfg.BootstrapClientID))
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("bootstrap client: %w", err)
	}
	s.log.Info("created bootstrap client", slog.String("client_id", cfg.BootstrapClientID))
	return nil
}

// EnsureTenant creates a tenant with default settings unless it exists,
// and makes sure it has signing keys.
func (s *Server) EnsureTenant(ctx context.Context, id, name string) error {
	err := s.Store.CreateTenant(ctx, storage.Tenant{
		ID: id, Name: name, Settings: storage.DefaultTenantSettings(), CreatedAt: s.now(),
	})
	if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return fmt.Errorf("create tenant %s: %w", id, err)
	}
	if err := s.Keys.EnsureKeys(ctx, id); err != nil {
		return fmt.Errorf("signing keys of tenant %s: %w", id, err)
	}
	return EnsureTemplate(ctx, s.Store, id, s.now())
}

// EnsureTemplate gives a tenant the built-in organization permissions and
// roles (owner, admin, member, billing_manager) unless it has them.
func EnsureTemplate(ctx context.Context, st storage.TemplateStore, tenantID string, now time.Time) error {
	for _, p := range storage.BuiltinPermissions {
		p.TenantID, p.CreatedAt = tenantID, now
		if err := st.CreatePermission(ctx, p); err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("built-in permission %s of tenant %s: %w", p.Name, tenantID, err)
		}
	}
	for _, r := range storage.BuiltinRoles {
		r.TenantID, r.ID, r.CreatedAt = tenantID, "rol_"+tenantID+"_"+r.Name, now
		if err := st.CreateRole(ctx, r); err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("built-in role %s of tenant %s: %w", r.Name, tenantID, err)
		}
	}
	return nil
}
