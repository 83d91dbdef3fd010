package login

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Helpers of the onboarding tests (verification, reset, invitations):
// mail read back from the real outbox, organizations, rules and
// invitations made through the real store.

// mailTo returns the outbox's messages of kind to address, newest first.
func (e *env) mailTo(address, kind string) []storage.MailMessage {
	e.t.Helper()
	msgs, _, err := e.store.ListMail(context.Background(), testTenant, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		e.t.Fatalf("list mail: %v", err)
	}
	var out []storage.MailMessage
	for _, m := range msgs {
		if strings.EqualFold(m.To, address) && m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// mailCount counts every message in the outbox.
func (e *env) mailCount() int {
	e.t.Helper()
	msgs, _, err := e.store.ListMail(context.Background(), testTenant, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		e.t.Fatalf("list mail: %v", err)
	}
	return len(msgs)
}

// mailLink returns the link of the newest message of kind to address: the
// line of its text part that starts with http (DESIGN §5).
func (e *env) mailLink(address, kind string) string {
	e.t.Helper()
	msgs := e.mailTo(address, kind)
	if len(msgs) == 0 {
		e.t.Fatalf("no %s mail to %s", kind, address)
	}
	text, _, err := mail.Open(e.sealer, msgs[0])
	if err != nil {
		e.t.Fatalf("open mail: %v", err)
	}
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "http") {
			return line
		}
	}
	e.t.Fatalf("no link in %s mail:\n%s", kind, text)
	return ""
}

// target turns an absolute link under the test external URL into what
// the test browser requests.
func target(t *testing.T, link string) string {
	t.Helper()
	const base = "http://orgid.test"
	if !strings.HasPrefix(link, base+"/t/"+testTenant+"/") {
		t.Fatalf("link %q is not under %s", link, base)
	}
	return strings.TrimPrefix(link, base)
}

// userWith creates a user with a password after mod adjusts it.
func (e *env) userWith(email, plain string, mod func(*storage.User)) storage.User {
	e.t.Helper()
	hash, err := password.HashWithParams(plain, password.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	u := storage.User{
		TenantID: testTenant, ID: secure.ID("usr"), Email: email, Name: "Ada",
		PasswordHash: hash, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}
	if mod != nil {
		mod(&u)
	}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	return u
}

func (e *env) getUser(id string) storage.User {
	e.t.Helper()
	u, err := e.store.GetUser(context.Background(), testTenant, id)
	if err != nil {
		e.t.Fatalf("get user: %v", err)
	}
	return u
}

// org creates an organization.
func (e *env) org(name string) storage.Organization {
	e.t.Helper()
	o := storage.Organization{
		TenantID: testTenant, ID: secure.ID("org"), Name: name, Slug: secure.Slug(name) + "-" + strings.ToLower(secure.ID("")),
		CustomData: json.RawMessage(`{}`), MFAPolicy: "configured", ProviderID: secure.ID("prv"), CreatedAt: e.clock.Now(),
	}
	if err := e.store.CreateOrganization(context.Background(), o); err != nil {
		e.t.Fatalf("create organization: %v", err)
	}
	return o
}

// jitRule lists domain for orgID with roles (none: the default roles).
func (e *env) jitRule(orgID, domain string, roles ...string) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.store.SetJITEmailDomains(ctx, testTenant, orgID, []string{domain}); err != nil {
		e.t.Fatalf("set JIT domains: %v", err)
	}
	if roles == nil {
		return // never set: the default roles
	}
	if err := e.store.SetJITRoles(ctx, testTenant, orgID, roles); err != nil {
		e.t.Fatalf("set JIT roles: %v", err)
	}
}

// roles returns the user's roles in orgID, or nil when not a member.
func (e *env) roles(orgID, userID string) []string {
	e.t.Helper()
	m, err := e.store.GetMembership(context.Background(), testTenant, orgID, userID)
	if err != nil {
		return nil
	}
	return m.Roles
}

func (e *env) isMember(orgID, userID string) bool {
	e.t.Helper()
	_, err := e.store.GetMembership(context.Background(), testTenant, orgID, userID)
	return err == nil
}

// invitation invites email into orgID with roles for ttl and returns the
// link's secret.
func (e *env) invitation(orgID, email string, ttl time.Duration, roles ...string) (string, storage.Invitation) {
	e.t.Helper()
	token := secure.Token()
	now := e.clock.Now()
	inv := storage.Invitation{
		TenantID: testTenant, ID: secure.ID("inv"), OrganizationID: orgID, Email: email, Roles: roles,
		TokenHash: secure.Hash(token), Status: storage.InvitationPending, InviterID: "usr_admin",
		TTL: ttl, ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now,
	}
	if err := e.store.CreateInvitation(context.Background(), inv); err != nil {
		e.t.Fatalf("create invitation: %v", err)
	}
	return token, inv
}

func (e *env) getInvitation(inv storage.Invitation) storage.Invitation {
	e.t.Helper()
	got, err := e.store.GetInvitation(context.Background(), testTenant, inv.OrganizationID, inv.ID)
	if err != nil {
		e.t.Fatalf("get invitation: %v", err)
	}
	return got
}

// auditActions lists the tenant's audit actions, newest first.
func (e *env) auditActions() []string {
	e.t.Helper()
	entries, _, err := e.store.ListAudit(context.Background(), testTenant, storage.AuditFilter{}, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		e.t.Fatalf("list audit: %v", err)
	}
	var out []string
	for _, a := range entries {
		out = append(out, a.Action)
	}
	return out
}

func (e *env) hasAudit(action string) bool { return slices.Contains(e.auditActions(), action) }

// enrolTOTP gives the user a confirmed TOTP factor and returns its secret.
func (e *env) enrolTOTP(u storage.User) string {
	e.t.Helper()
	ctx := context.Background()
	en, err := mfa.NewTOTP("Acme", u.Email)
	if err != nil {
		e.t.Fatal(err)
	}
	sealed, err := e.sealer.Seal([]byte(en.Secret), totpAAD(testTenant, u.ID))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.PutPendingTOTP(ctx, storage.TOTPFactor{TenantID: testTenant, UserID: u.ID, SecretSealed: sealed, CreatedAt: e.clock.Now()}); err != nil {
		e.t.Fatalf("pending TOTP: %v", err)
	}
	// Confirmed at an earlier step, so that the current code is unused.
	if err := e.store.ConfirmTOTP(ctx, testTenant, u.ID, mfa.Step(e.clock.Now())-5, nil, e.clock.Now()); err != nil {
		e.t.Fatalf("confirm TOTP: %v", err)
	}
	return en.Secret
}

// signedIn signs a new browser in as email through a fresh auth request.
func (e *env) signedIn(email, plain string) *browser {
	e.t.Helper()
	b := e.browser()
	if res := b.login(e.authRequest(nil), email, plain); res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s: status %d:\n%s", email, res.StatusCode, res.body)
	}
	return b
}

// session returns the session the browser's cookie names, as the pages
// see it (nil when there is none or it is no longer valid).
func (b *browser) session() *storage.Session {
	b.e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://orgid.test/t/"+testTenant+"/login", nil)
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	sess, _, err := b.e.h.currentSession(httptest.NewRecorder(), req, testTenant)
	if err != nil {
		b.e.t.Fatalf("current session: %v", err)
	}
	return sess
}

// post sends a form to target with the CSRF token of page (an earlier
// response of the same browser).
func (b *browser) post(target string, page response, fields map[string]string) response {
	b.e.t.Helper()
	form := map[string][]string{"csrf_token": {formToken(b.e.t, page.body)}}
	for k, v := range fields {
		form[k] = []string{v}
	}
	return b.do(http.MethodPost, target, form)
}

func wantStatus(t *testing.T, res response, status int, contains ...string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d:\n%s", res.StatusCode, status, res.body)
	}
	for _, c := range contains {
		if !strings.Contains(res.body, c) {
			t.Errorf("page lacks %q:\n%s", c, res.body)
		}
	}
}

// onBothStores runs body on SQLite, and on PostgreSQL when
// ORGID_TEST_DATABASE_URL is set (skipped otherwise).
func onBothStores(t *testing.T, body func(t *testing.T, opts ...envOption)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); body(t) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); body(t, withPostgres(t)) })
}
