package op

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/storage"
)

// TestCheckOrgMFA: the organization MFA rules of DESIGN §3, by policy,
// enrolment and the sign-in's amr (RFC 8176).
func TestCheckOrgMFA(t *testing.T) {
	const (
		notConfigured = "organization requires MFA but user has no MFA configured"
		notUsed       = "organization requires MFA in this sign-in: sign in again with acr_values=urn:orgid:acr:mfa"
	)
	for _, tc := range []struct {
		name     string
		required bool
		policy   string
		enrolled bool
		amr      []string
		want     string // error description; "" for none
	}{
		{"not required", false, "verified", false, []string{"pwd"}, ""},
		{"configured, no factor", true, "configured", false, []string{"pwd"}, notConfigured},
		{"empty policy is configured", true, "", false, nil, notConfigured},
		{"configured, factor, password sign-in", true, "configured", true, []string{"pwd"}, ""},
		{"verified, no factor", true, "verified", false, []string{"pwd", "otp"}, notConfigured},
		{"verified, password sign-in", true, "verified", true, []string{"pwd"}, notUsed},
		{"verified, no amr", true, "verified", true, nil, notUsed},
		{"verified, otp", true, "verified", true, []string{"pwd", "otp"}, ""},
		{"verified, mfa", true, "verified", true, []string{"pwd", "mfa"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOrgMFA(storage.MemberAccess{
				Organization:   storage.Organization{MFARequired: tc.required, MFAPolicy: tc.policy},
				UserMFAEnabled: tc.enrolled,
			}, tc.amr)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			// As the token endpoint writes it.
			rec := httptest.NewRecorder()
			zop.WriteError(rec, httptest.NewRequest(http.MethodPost, "/oauth/token", nil), err, nil)
			body, _ := json.Marshal(map[string]string{"error": "access_denied", "error_description": tc.want})
			if rec.Code != http.StatusForbidden || strings.TrimSpace(rec.Body.String()) != string(body) {
				t.Fatalf("got %d %s, want 403 %s", rec.Code, rec.Body, body)
			}
		})
	}
}
