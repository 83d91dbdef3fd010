package manage

import (
	"errors"
	"fmt"

	"github.com/orgid/orgid/storage"
)

// ErrLastOwner refuses a change that would leave an organization without
// an owner: removing or demoting its last owner, or deleting the user who
// is. Someone must always be able to manage the organization from inside
// it. Errors wrapping it say which organization.
var ErrLastOwner = errors.New("manage: the organization's last owner cannot be removed or demoted")

// ErrForbidden refuses a member acting through the self-service API
// (Actor.Limit) who tries to grant or take away more than they hold.
var ErrForbidden = errors.New("manage: beyond the caller's own permissions")

// ErrNoSecret refuses to rotate the secret of an application that
// authenticates without one: a public client (spa, native) or one that
// registered a JWK Set for private_key_jwt.
var ErrNoSecret = errors.New("manage: the application authenticates without a client secret")

// ErrNotOwned refuses a member acting through the self-service API who
// tries to change or remove the link of a tenant-wide application to
// their organization: the tenant's administrators made it and own it.
var ErrNotOwned = errors.New("manage: the application is not the organization's own")

// LastOwnerError is ErrLastOwner for one organization.
type LastOwnerError struct {
	OrganizationID string
}

func (e *LastOwnerError) Error() string {
	return fmt.Sprintf("manage: organization %s would be left without an owner", e.OrganizationID)
}

// Unwrap makes errors.Is(err, ErrLastOwner) hold.
func (e *LastOwnerError) Unwrap() error { return ErrLastOwner }

func lastOwner(orgID string) error { return &LastOwnerError{OrganizationID: orgID} }

func fieldErr(field, format string, args ...any) error {
	return &storage.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}
