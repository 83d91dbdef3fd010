// Package portal serves the signed-in pages of a tenant: the organization
// portal (/t/{tenant}/portal) and the account's organizations
// (/t/{tenant}/account/organizations).
//
// The portal is a first-party OpenID Connect client of its own tenant: it
// signs people in through the tenant's authorize and token endpoints like
// any application (dogfooding the protocol), keeps its own session
// cookie, and checks a CSRF token on every form. What a user may see and
// do is read from their memberships on every request, through
// internal/manage, the same operations the management API runs.
package portal
