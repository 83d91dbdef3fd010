package op

import (
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// Authentication context classes orgid signs users in with (OIDC Core
// §2, acr; DESIGN §3 MFA). The login pages set them; discovery lists them.
const (
	acrPassword = "urn:orgid:acr:password"
	acrMFA      = "urn:orgid:acr:mfa"
)

// supportedACRs are published as acr_values_supported (OIDC Discovery §3).
var supportedACRs = []string{acrPassword, acrMFA}

// mfaPolicyVerified is the organization MFA policy that also wants the
// factor used in the sign-in; the default, "configured" (or empty), only
// wants one enrolled (DESIGN §3).
const mfaPolicyVerified = "verified"

// Refusals of an organization that requires MFA: 403 access_denied like
// errOrgDenied, but they may say why, since the subject is a member.
func errOrgMFANotConfigured() error {
	return zop.NewStatusError(oidc.ErrAccessDenied().WithDescription("organization requires MFA but user has no MFA configured"), http.StatusForbidden)
}

func errOrgMFANotUsed() error {
	return zop.NewStatusError(oidc.ErrAccessDenied().WithDescription("organization requires MFA in this sign-in: sign in again with acr_values=%s", acrMFA), http.StatusForbidden)
}

// checkOrgMFA applies the organization's MFA requirement to a member
// whose sign-in used the authentication methods amr (RFC 8176): with
// mfa_required the member must have a confirmed factor, and under the
// "verified" policy the sign-in must also have used it. Applications
// (client credentials) have no factors and are not subject to it.
func checkOrgMFA(access storage.MemberAccess, amr []string) error {
	org := access.Organization
	if !org.MFARequired {
		return nil
	}
	if !access.UserMFAEnabled {
		return errOrgMFANotConfigured()
	}
	if org.MFAPolicy == mfaPolicyVerified && !slices.Contains(amr, "otp") && !slices.Contains(amr, "mfa") {
		return errOrgMFANotUsed()
	}
	return nil
}
