package manage

import (
	"context"
	"encoding/json"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// MFA policies of an organization (DESIGN §3): "configured" needs the
// user to have a factor; "verified" also needs the sign-in to have used it.
const (
	MFAConfigured = "configured"
	MFAVerified   = "verified"
)

// OrganizationInput is a new organization or a change to one. A nil field
// is not given: creation uses the default, an update keeps what is stored.
type OrganizationInput struct {
	Name        *string
	Slug        *string
	Description *string
	LogoURL     *string
	LogoDarkURL *string
	// CustomData is a JSON object; nil is not given.
	CustomData  json.RawMessage
	MFARequired *bool
	MFAPolicy   *string
	// OwnerID, on creation, makes that user the organization's first
	// owner in the same transaction (the portal's Create organization);
	// empty creates it without members.
	OwnerID string
}

// apply validates the given fields and sets them on o. It returns the
// names of the fields given, in their JSON spelling, for the audit log.
func (in OrganizationInput) apply(o *storage.Organization) ([]string, error) {
	var given []string
	if in.Name != nil {
		if err := checkName("name", *in.Name); err != nil {
			return nil, err
		}
		o.Name, given = *in.Name, append(given, "name")
	}
	if in.Slug != nil {
		if err := checkSlug("slug", *in.Slug); err != nil {
			return nil, err
		}
		o.Slug, given = *in.Slug, append(given, "slug")
	}
	if in.Description != nil {
		if err := checkText("description", *in.Description, maxDescriptionLen); err != nil {
			return nil, err
		}
		o.Description, given = *in.Description, append(given, "description")
	}
	if in.LogoURL != nil {
		if err := checkLogoURL("logo_url", *in.LogoURL); err != nil {
			return nil, err
		}
		o.LogoURL, given = *in.LogoURL, append(given, "logo_url")
	}
	if in.LogoDarkURL != nil {
		if err := checkLogoURL("logo_dark_url", *in.LogoDarkURL); err != nil {
			return nil, err
		}
		o.LogoDarkURL, given = *in.LogoDarkURL, append(given, "logo_dark_url")
	}
	if in.CustomData != nil {
		data, err := checkCustomData("custom_data", in.CustomData)
		if err != nil {
			return nil, err
		}
		o.CustomData, given = data, append(given, "custom_data")
	}
	if in.MFARequired != nil {
		o.MFARequired, given = *in.MFARequired, append(given, "mfa_required")
	}
	if in.MFAPolicy != nil {
		if p := *in.MFAPolicy; p != MFAConfigured && p != MFAVerified {
			return nil, fieldErr("mfa_policy", "must be %s or %s", MFAConfigured, MFAVerified)
		}
		o.MFAPolicy, given = *in.MFAPolicy, append(given, "mfa_policy")
	}
	return given, nil
}

// CreateOrganization creates an organization. Without a slug, one is made
// from the name; a taken slug is ErrAlreadyExists either way (a client
// that wants another one says so). Without in.OwnerID the organization
// has no members: an admin adds its first owner.
func (s *Service) CreateOrganization(ctx context.Context, tenant string, a Actor, in OrganizationInput) (storage.Organization, error) {
	o := storage.Organization{
		TenantID:   tenant,
		ID:         secure.ID("org"),
		CustomData: json.RawMessage("{}"),
		MFAPolicy:  MFAConfigured,
		ProviderID: secure.ID("prv"),
		CreatedAt:  s.now(),
	}
	if in.Name == nil {
		return storage.Organization{}, fieldErr("name", "is required")
	}
	// The name first: a blank one is the name's fault, not the slug's
	// that cannot be made from it.
	if err := checkName("name", *in.Name); err != nil {
		return storage.Organization{}, err
	}
	if in.Slug == nil {
		slug := deriveSlug(*in.Name)
		if slug == "" {
			return storage.Organization{}, fieldErr("slug", "cannot be made from the name; give one")
		}
		in.Slug = &slug
	}
	given, err := in.apply(&o)
	if err != nil {
		return storage.Organization{}, err
	}
	details := map[string]any{"slug": o.Slug, "fields": given}
	if in.OwnerID != "" {
		details["owner"] = in.OwnerID
	}
	c := &change{tenant: tenant, action: "organization.create", target: o.ID, details: details}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		if err := tx.CreateOrganization(ctx, o); err != nil || in.OwnerID == "" {
			return err
		}
		return tx.AddMembership(ctx, storage.Membership{
			TenantID: tenant, OrganizationID: o.ID, UserID: in.OwnerID, Roles: []string{storage.RoleOwner}, JoinedAt: o.CreatedAt,
		})
	})
	if err != nil {
		return storage.Organization{}, err
	}
	return o, nil
}

// GetOrganization returns one organization.
func (s *Service) GetOrganization(ctx context.Context, tenant, id string) (storage.Organization, error) {
	return s.store.GetOrganization(ctx, tenant, id)
}

// ListOrganizations pages through the tenant's organizations, oldest first.
func (s *Service) ListOrganizations(ctx context.Context, tenant string, p storage.Page) ([]storage.Organization, string, error) {
	return s.store.ListOrganizations(ctx, tenant, p)
}

// UpdateOrganization changes the given fields only; the ID, the provider
// ID and the creation time never change.
func (s *Service) UpdateOrganization(ctx context.Context, tenant string, a Actor, id string, in OrganizationInput) (storage.Organization, error) {
	var o storage.Organization
	c := &change{tenant: tenant, action: "organization.update", target: id}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		var err error
		if o, err = tx.GetOrganization(ctx, tenant, id); err != nil {
			return err
		}
		given, err := in.apply(&o)
		if err != nil {
			return err
		}
		c.details = map[string]any{"fields": given}
		return tx.UpdateOrganization(ctx, o)
	})
	if err != nil {
		return storage.Organization{}, err
	}
	return o, nil
}

// DeleteOrganization removes an organization with its memberships and
// custom roles.
func (s *Service) DeleteOrganization(ctx context.Context, tenant string, a Actor, id string) error {
	c := &change{tenant: tenant, action: "organization.delete", target: id}
	return s.write(ctx, a, c, func(tx storage.Store) error {
		o, err := tx.GetOrganization(ctx, tenant, id)
		if err != nil {
			return err
		}
		c.details = map[string]any{"slug": o.Slug}
		return tx.DeleteOrganization(ctx, tenant, id)
	})
}
