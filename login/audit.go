package login

import (
	"context"
	"encoding/json"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Audit actions of a user's own changes to their account (second factor,
// email verification and change, name, password reset and change,
// recovery codes, ending sessions, joining through an invitation),
// beside the management API's actions of admins such as "user.mfa_reset"
// (GET /admin/audit-log).
const (
	auditMFAEnrol       = "user.mfa_enrol"
	auditMFARemove      = "user.mfa_remove"
	auditEmailVerify    = "user.email_verify"
	auditPasswordReset  = "user.password_reset"
	auditInvitationJoin = "organization.invitation.accept"
	auditProfileUpdate  = "user.profile_update"
	auditEmailChange    = "user.email_change"
	auditPasswordChange = "user.password_change"
	auditSessionsEnd    = "user.sessions_end"
	auditRecoveryCodes  = "user.recovery_codes_replace"
)

// selfAudit appends the audit entry of a change a signed-in user made to
// their own account: they are both the actor and the target. Pass tx, the
// Store of the change's transaction, so that both are stored or neither.
func selfAudit(ctx context.Context, tx storage.Store, tenantID, userID, action string, at time.Time) error {
	return tx.AppendAudit(ctx, storage.AuditEntry{
		TenantID:  tenantID,
		ID:        secure.ID("aud"),
		Actor:     userID,
		Action:    action,
		Target:    userID,
		Details:   json.RawMessage("{}"),
		CreatedAt: at.UTC(),
	})
}
