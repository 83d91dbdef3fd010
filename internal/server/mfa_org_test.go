package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// The exact answers of DESIGN §3 to an organization token request that
// the organization's MFA requirement refuses, and the one answer for a
// non-member and a nonexistent organization.
const (
	bodyMFANotConfigured = `{"error":"access_denied","error_description":"organization requires MFA but user has no MFA configured"}`
	bodyMFANotUsed       = `{"error":"access_denied","error_description":"organization requires MFA in this sign-in: sign in again with acr_values=urn:orgid:acr:mfa"}`
	bodyOrgDenied        = `{"error":"access_denied","error_description":"the organization does not exist or the subject is not a member of it"}`
)

// confirmTOTP gives userID a confirmed TOTP factor straight through the
// store, as enrolment would: a pending factor (its sealed secret is
// opaque to the store), then confirmation with ten recovery code hashes.
func (e *env) confirmTOTP(t testing.TB, userID string) {
	t.Helper()
	if err := e.srv.Store.PutPendingTOTP(e.ctx, storage.TOTPFactor{
		TenantID: storage.DefaultTenant, UserID: userID, SecretSealed: []byte("sealed secret, opaque to the store"), CreatedAt: e.clock.Now(),
	}); err != nil {
		t.Fatalf("pending TOTP factor: %v", err)
	}
	codes := make([][]byte, 10)
	for i := range codes {
		codes[i] = secure.Hash(fmt.Sprintf("recovery-%02d", i))
	}
	step := e.clock.Now().Unix() / 30
	if err := e.srv.Store.ConfirmTOTP(e.ctx, storage.DefaultTenant, userID, step, codes, e.clock.Now()); err != nil {
		t.Fatalf("confirm TOTP factor: %v", err)
	}
}

// requireMFA sets an organization's MFA requirement in the store.
func (e *env) requireMFA(t testing.TB, o *storage.Organization, policy string) {
	t.Helper()
	o.MFARequired, o.MFAPolicy = true, policy
	if err := e.srv.Store.UpdateOrganization(e.ctx, *o); err != nil {
		t.Fatal(err)
	}
}

// postRaw posts form to the token endpoint with HTTP basic client
// authentication and returns the status and the body as sent.
func (e *env) postRaw(t testing.TB, clientID, secret string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.issuer(storage.DefaultTenant)+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// orgRefresh asks for an organization token with a refresh token (DESIGN
// §3, way 1). A refused request does not rotate the refresh token; a
// granted one does, so it returns the refresh token to use next.
func (w *orgWorld) orgRefresh(t testing.TB, rt, orgID string) (int, string, string) {
	t.Helper()
	status, body, raw := w.refresh(rt, url.Values{"organization_id": {orgID}})
	if status == http.StatusOK {
		rt = body["refresh_token"].(string)
	}
	return status, raw, rt
}

// orgExchange trades the access token at for an organization token (RFC
// 8693; DESIGN §3, way 2).
func (w *orgWorld) orgExchange(t testing.TB, at, orgID string) (int, string) {
	t.Helper()
	return w.e.postRaw(t, w.clientID, w.secret, url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {at},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"organization_id":    {orgID},
	})
}

// wantBody fails unless the answer is status with exactly body.
func wantBody(t testing.TB, what string, status int, raw string, wantStatus int, body string) {
	t.Helper()
	if status != wantStatus || strings.TrimSpace(raw) != body {
		t.Errorf("%s: got %d %s\nwant %d %s", what, status, raw, wantStatus, body)
	}
}

// TestOrganizationMFA: an organization with mfa_required refuses
// organization tokens to a member without a confirmed factor, on every
// way a user gets one, and grants them once the factor is confirmed; a
// non-member hears nothing of the policy. An organization= sign-in sends
// a member without a factor to enrolment first. Under the "verified"
// policy a password-only sign-in is refused even with a factor, and an
// acr_values=urn:orgid:acr:mfa sign-in is granted.
func TestOrganizationMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newOrgWorld(t, e) // grace: admin of acme, member of globex, not in initech
		e.requireMFA(t, &w.acme, "configured")
		e.requireMFA(t, &w.initech, "configured")
		tok := w.tokens(t)
		rt, at := tok["refresh_token"].(string), tok["access_token"].(string)
		if _, c := e2etest.DecodeJWT(t, at); !slices.Equal(strs(c["amr"]), []string{"pwd"}) || c["acr"] != "urn:orgid:acr:password" {
			t.Fatalf("a password sign-in's access token: amr %v acr %v", c["amr"], c["acr"])
		}

		t.Run("configured, member without MFA", func(t *testing.T) {
			status, raw, next := w.orgRefresh(t, rt, w.acme.ID)
			wantBody(t, "refresh with organization_id", status, raw, http.StatusForbidden, bodyMFANotConfigured)
			if next != rt {
				t.Fatal("a refused request rotated the refresh token")
			}
			status, raw = w.orgExchange(t, at, w.acme.ID)
			wantBody(t, "token exchange", status, raw, http.StatusForbidden, bodyMFANotConfigured)

			// An organization without the requirement still answers.
			status, raw, rt = w.orgRefresh(t, rt, w.globex.ID)
			if status != http.StatusOK {
				t.Fatalf("organization without mfa_required: %d %s", status, raw)
			}
		})

		t.Run("non-member hears nothing of the policy", func(t *testing.T) {
			for _, org := range []string{w.initech.ID, "org_doesnotexist"} {
				status, raw, _ := w.orgRefresh(t, rt, org)
				wantBody(t, "refresh for "+org, status, raw, http.StatusForbidden, bodyOrgDenied)
				status, raw = w.orgExchange(t, at, org)
				wantBody(t, "token exchange for "+org, status, raw, http.StatusForbidden, bodyOrgDenied)
			}
		})

		var secret string // of the factor enrolled through the pages
		t.Run("organization sign-in, member without MFA", func(t *testing.T) {
			// Rather than a code the exchange would refuse, the organization=
			// sign-in sends the member to enrolment; Continue completes it
			// with organization tokens from a sign-in that used the factor.
			m := &mfaRP{e: e, rp: w.rp}
			page, body := w.br.Get(w.rp.Config.AuthCodeURL("s",
				oauth2.S256ChallengeOption(w.verifier), oauth2.SetAuthURLParam("organization", w.acme.Slug)))
			if !strings.HasSuffix(page.Request.URL.Path, "/account/security") || page.Request.URL.Query().Get("authRequestID") == "" {
				t.Fatalf("organization sign-in without MFA landed on %s:\n%s", page.Request.URL, body)
			}
			var next string
			secret, _, next = m.enrol(t, w.br, page, body)
			q := e2etest.RedirectParams(t, must(w.br.Get(next)))
			if q.Get("code") == "" {
				t.Fatalf("no code after enrolment: %v", q)
			}
			status, tok, _ := w.exchange(q.Get("code"), w.clientID, w.secret, w.verifier)
			if status != http.StatusOK {
				t.Fatalf("code exchange after enrolment: %d %v", status, tok)
			}
			_, c := e2etest.DecodeJWT(t, tok["access_token"].(string))
			if c["organization_id"] != w.acme.ID || !slices.Equal(strs(c["aud"]), []string{"urn:orgid:organization:" + w.acme.ID}) ||
				!slices.Contains(strs(c["amr"]), "otp") || c["acr"] != acrMFAValue {
				t.Errorf("access token of the organization sign-in: %v", c)
			}
		})

		t.Run("organization sign-in, non-member hears nothing of the policy", func(t *testing.T) {
			// A stranger to Initech (mfa_required) is turned back as for any
			// organization, not sent to enrolment.
			br := e.browser()
			v := oauth2.GenerateVerifier()
			resp := br.SignUp(w.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(v),
				oauth2.SetAuthURLParam("organization", w.initech.Slug)), "mallory@example.test", "a long enough password", "Mallory")
			if q := e2etest.RedirectParams(t, resp); q.Get("error") != "access_denied" {
				t.Errorf("non-member's organization sign-in: %v", q)
			}
		})

		t.Run("configured, member with MFA", func(t *testing.T) {
			status, raw, next := w.orgRefresh(t, rt, w.acme.ID)
			if status != http.StatusOK {
				t.Fatalf("refresh with organization_id after enrolment: %d %s", status, raw)
			}
			rt = next
			status, raw = w.orgExchange(t, at, w.acme.ID)
			if status != http.StatusOK {
				t.Fatalf("token exchange after enrolment: %d %s", status, raw)
			}
			// A non-member still gets the one generic answer.
			status, raw, _ = w.orgRefresh(t, rt, w.initech.ID)
			wantBody(t, "non-member after enrolment", status, raw, http.StatusForbidden, bodyOrgDenied)
		})

		t.Run("verified, password-only sign-in", func(t *testing.T) {
			// The factor exists, but the grant came from a sign-in with amr
			// ["pwd"]: the client must sign in again asking for MFA (the next
			// subtest).
			e.requireMFA(t, &w.globex, "verified")
			status, raw, next := w.orgRefresh(t, rt, w.globex.ID)
			wantBody(t, "refresh with organization_id", status, raw, http.StatusForbidden, bodyMFANotUsed)
			if next != rt {
				t.Fatal("a refused request rotated the refresh token")
			}
			status, raw = w.orgExchange(t, at, w.globex.ID)
			wantBody(t, "token exchange", status, raw, http.StatusForbidden, bodyMFANotUsed)
			// "configured" is still satisfied by the factor alone.
			if status, raw, _ := w.orgRefresh(t, rt, w.acme.ID); status != http.StatusOK {
				t.Fatalf("configured organization: %d %s", status, raw)
			}
		})

		t.Run("verified, MFA sign-in", func(t *testing.T) {
			// acr_values=urn:orgid:acr:mfa in a new browser: the password,
			// then the code from the app; that grant's organization token
			// for the verified organization is granted.
			m := &mfaRP{e: e, rp: w.rp}
			e.advance(30 * time.Second) // the enrolment's step is spent
			br := e.browser()
			v := oauth2.GenerateVerifier()
			page, body := m.password(t, br, w.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(v),
				oauth2.SetAuthURLParam("acr_values", acrMFAValue)), "grace@example.test", "a long enough password")
			wantCodePage(t, page, body)
			resp, out := br.Submit(page, body, "Verify", map[string]string{"code": m.code(t, secret)})
			q := e2etest.RedirectParams(t, resp)
			if q.Get("code") == "" {
				t.Fatalf("no code after the second factor: %v\n%s", q, out)
			}
			status, tok, _ := w.exchange(q.Get("code"), w.clientID, w.secret, v)
			if status != http.StatusOK {
				t.Fatalf("code exchange: %d %v", status, tok)
			}
			status, raw, _ := w.orgRefresh(t, tok["refresh_token"].(string), w.globex.ID)
			if status != http.StatusOK {
				t.Fatalf("verified organization after an MFA sign-in: %d %s", status, raw)
			}
			var granted map[string]any
			if err := json.Unmarshal([]byte(raw), &granted); err != nil {
				t.Fatal(err)
			}
			if _, c := e2etest.DecodeJWT(t, granted["access_token"].(string)); c["organization_id"] != w.globex.ID || !slices.Contains(strs(c["amr"]), "otp") {
				t.Errorf("organization token: %v", c)
			}
		})

		t.Run("verified, member without MFA", func(t *testing.T) {
			// Without a factor, the first reason is the one given.
			if err := e.srv.Store.DeleteMFA(e.ctx, storage.DefaultTenant, w.userID); err != nil {
				t.Fatal(err)
			}
			status, raw := w.orgExchange(t, at, w.globex.ID)
			wantBody(t, "token exchange", status, raw, http.StatusForbidden, bodyMFANotConfigured)
		})
	})
}

// TestOrganizationMFAExemptsApplications: client credentials tokens are an
// application's, which has no factor to require.
func TestOrganizationMFAExemptsApplications(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newM2MWorld(t, e)
		e.requireMFA(t, &w.acme, "configured")
		e.requireMFA(t, &w.globex, "verified")
		tok := e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.acme.ID)))
		w.checkOrgToken(t, tok, w.clientID, w.acme, "", []string{"admin"}, storage.BuiltinRoles[1].Permissions)
		tok = e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.globex.ID)))
		w.checkOrgToken(t, tok, w.clientID, w.globex, "", []string{"member", "accountant"}, append([]string{"read:invoices"}, memberPerms...))
	})
}

// TestDiscoveryACRValues: discovery names the authentication context
// classes a client may ask for with acr_values (OIDC Discovery §3).
func TestDiscoveryACRValues(t *testing.T) {
	e := newEnv(t, embedded)
	doc := discovery(t, e)
	if got := strs(doc["acr_values_supported"]); !slices.Equal(got, []string{"urn:orgid:acr:password", "urn:orgid:acr:mfa"}) {
		t.Errorf("acr_values_supported = %v", got)
	}
	if claims := strs(doc["claims_supported"]); !slices.Contains(claims, "amr") || !slices.Contains(claims, "acr") {
		t.Errorf("claims_supported = %v, want acr and amr among them", claims)
	}
}

// TestResetUserMFA: the management API shows whether a user has a
// factor, and an admin can remove it (for a user who lost their
// authenticator), audited; the organization that requires MFA then
// refuses the user again.
func TestResetUserMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newOrgWorld(t, e)
		admin, adminID := e.admin(t, storage.DefaultTenant)
		e.requireMFA(t, &w.acme, "configured")
		rt := w.tokens(t)["refresh_token"].(string)

		user := "/admin/users/" + w.userID
		if r := admin.do(http.MethodGet, user, nil).want(t, http.StatusOK); r.body["mfa_enabled"] != false {
			t.Fatalf("before enrolment: %s", r.raw)
		}
		admin.do(http.MethodDelete, user+"/mfa", nil).problem(t, http.StatusNotFound, "not-found", "")

		e.confirmTOTP(t, w.userID)
		if r := admin.do(http.MethodGet, user, nil).want(t, http.StatusOK); r.body["mfa_enabled"] != true {
			t.Fatalf("after enrolment: %s", r.raw)
		}
		status, raw, next := w.orgRefresh(t, rt, w.acme.ID)
		if status != http.StatusOK {
			t.Fatalf("organization token after enrolment: %d %s", status, raw)
		}
		rt = next

		e.advance(time.Second)
		admin.do(http.MethodDelete, user+"/mfa", nil, requestID("reset-mfa-1")).want(t, http.StatusNoContent)
		if r := admin.do(http.MethodGet, user, nil).want(t, http.StatusOK); r.body["mfa_enabled"] != false {
			t.Fatalf("after reset: %s", r.raw)
		}
		var found []map[string]any
		for _, en := range admin.all(t, "/admin/audit-log", "id") {
			if en["request_id"] == "reset-mfa-1" {
				found = append(found, en)
			}
		}
		if len(found) != 1 || found[0]["action"] != "user.mfa_reset" || found[0]["target"] != w.userID || found[0]["actor"] != adminID {
			t.Errorf("audit entries of the reset: %v", found)
		}
		// No cache: the very next request is refused.
		status, raw, _ = w.orgRefresh(t, rt, w.acme.ID)
		wantBody(t, "organization token after reset", status, raw, http.StatusForbidden, bodyMFANotConfigured)

		admin.do(http.MethodDelete, user+"/mfa", nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, "/admin/users/usr_doesnotexist/mfa", nil).problem(t, http.StatusNotFound, "not-found", "")
	})
}
