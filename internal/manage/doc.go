// Package manage holds orgid's management operations — organizations,
// their members and roles, the organization template, users,
// applications, tenants and the audit log — independent of any transport.
// The admin API, the organization self-service API and the portal all
// call it, so every rule (validation, the last owner, the audit entry
// written in the same transaction as the change) lives in one place.
package manage
