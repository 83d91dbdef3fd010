package manage

import (
	"context"
	"log/slog"
	"strings"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// NewTenant is a created tenant with the credentials of its first
// management client, whose secret is shown only once.
type NewTenant struct {
	Tenant       storage.Tenant
	ClientID     string
	ClientSecret string
}

// CreateTenant creates a tenant with the organization template and its
// first m2m application holding the tenant role admin, all in one
// transaction (ErrAlreadyExists when the slug is taken), then gives it
// signing keys. The audit entry goes to the caller's tenant (from).
//
// Keys are made after the commit, because the key manager writes through
// its own store. If that fails the tenant still works: a tenant without
// keys gets them on first use, and the error is only logged — returning
// it would lose the client secret of a tenant that exists.
func (s *Service) CreateTenant(ctx context.Context, from string, a Actor, slug, name string) (NewTenant, error) {
	if err := checkSlug("slug", slug); err != nil {
		return NewTenant{}, err
	}
	if slug == storage.DefaultTenant {
		return NewTenant{}, fieldErr("slug", "%q is reserved", slug)
	}
	if err := checkName("name", name); err != nil {
		return NewTenant{}, err
	}
	now := s.now()
	t := storage.Tenant{ID: slug, Name: name, Settings: storage.DefaultTenantSettings(), CreatedAt: now}
	secret := secure.Token()
	app := storage.Application{
		TenantID:    slug,
		ClientID:    secure.ID(""),
		Name:        "Admin",
		Type:        storage.AppM2M,
		SecretHash:  secure.Hash(secret),
		TenantRoles: []string{storage.TenantRoleAdmin},
		CreatedAt:   now,
	}
	c := &change{tenant: from, action: "tenant.create", target: slug, details: map[string]any{"admin_client_id": app.ClientID}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		if err := tx.CreateTenant(ctx, t); err != nil {
			return err
		}
		if s.template != nil {
			if err := s.template(ctx, tx, slug, now); err != nil {
				return err
			}
		}
		return tx.CreateApplication(ctx, app)
	})
	if err != nil {
		return NewTenant{}, err
	}
	if s.setup != nil {
		if err := s.setup(ctx, slug, name); err != nil {
			s.log.ErrorContext(ctx, "manage: set up new tenant; its keys will be made on first use",
				slog.String("tenant", slug), slog.Any("error", err))
		}
	}
	return NewTenant{Tenant: t, ClientID: app.ClientID, ClientSecret: secret}, nil
}

// ListTenants pages through every tenant by slug.
func (s *Service) ListTenants(ctx context.Context, p storage.Page) ([]storage.Tenant, string, error) {
	all, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, "", err
	}
	return pageOf("tenant", all, func(t storage.Tenant) string { return t.ID }, p)
}

// TenantSettings returns the tenant's settings. ErrNotFound.
func (s *Service) TenantSettings(ctx context.Context, tenant string) (storage.TenantSettings, error) {
	t, err := s.store.GetTenant(ctx, tenant)
	if err != nil {
		return storage.TenantSettings{}, err
	}
	return t.Settings, nil
}

// UpdateTenantSettings replaces the tenant's settings, with its audit
// entry. A FieldError on support_email (an address, or "" for none) or
// billing_portal_url (an absolute https URL, http only on loopback, or ""
// for none: browsers are sent there, so nothing else); ErrNotFound.
func (s *Service) UpdateTenantSettings(ctx context.Context, tenant string, a Actor, ts storage.TenantSettings) error {
	ts.SupportEmail = strings.TrimSpace(ts.SupportEmail)
	ts.BillingPortalURL = strings.TrimSpace(ts.BillingPortalURL)
	if ts.SupportEmail != "" {
		if err := checkEmail("support_email", ts.SupportEmail); err != nil {
			return err
		}
	}
	if err := checkLogoURL("billing_portal_url", ts.BillingPortalURL); err != nil {
		return err
	}
	// The settings hold no secret: the audit entry keeps them whole.
	c := &change{tenant: tenant, action: "tenant.settings.update", target: tenant, details: ts}
	return s.write(ctx, a, c, func(tx storage.Store) error {
		return tx.UpdateTenantSettings(ctx, tenant, ts)
	})
}
