// Package adminapi serves orgid's JSON APIs under /t/{tenant}/api/v1: the
// management API (/admin/..., for tenant administrators' tokens with scope
// management) and the organization self-service API
// (/organizations/{orgId}/..., for organization tokens, authorized from
// the caller's current membership). Both are thin HTTP layers over
// internal/manage; docs/openapi.yaml describes them and is tested against
// them.
package adminapi
