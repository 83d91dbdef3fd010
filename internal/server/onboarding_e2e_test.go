package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/mail/mailtest"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage"
)

// Issue 8's acceptance, end to end: mail really goes out over SMTP (an
// in-process server on loopback), its links verify addresses and accept
// invitations, and provisioning shows in the next token.

// mailWait bounds how long a test waits for a message to arrive.
const mailWait = 20 * time.Second

// withSMTP points orgid at the test SMTP server, with a fast sender: it
// polls often and retries soon, in the injected clock's time.
func withSMTP(smtp *mailtest.Server) func(*server.Options) {
	return func(o *server.Options) {
		o.Config.SMTPURL = smtp.URL()
		o.MailPollInterval = 20 * time.Millisecond
		o.MailMinBackoff = time.Second
	}
}

func newMailEnv(t *testing.T, b backend, smtp *mailtest.Server) *env {
	t.Helper()
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	store, eph, advance := b.open(t, clock)
	return newEnvWith(t, clock, store, eph, advance, withSMTP(smtp))
}

// mailTo waits for the next message to addr whose subject contains
// subject, and returns it with its link.
func mailTo(t *testing.T, smtp *mailtest.Server, addr, subject string, skip ...string) (mailtest.Message, string) {
	t.Helper()
	m := smtp.WaitFor(t, func(m mailtest.Message) bool {
		return slices.ContainsFunc(m.To, func(to string) bool { return strings.EqualFold(to, addr) }) &&
			strings.Contains(m.Subject, subject) && !slices.Contains(skip, m.MessageID)
	}, mailWait)
	link := mailtest.Link(m.Text)
	if link == "" {
		t.Fatalf("no link line in the text part of %q:\n%s", m.Subject, m.Text)
	}
	return m, link
}

// claimsRP signs up or in through a web app asking for organization claims.
type claimsRP struct {
	e        *env
	rp       *e2etest.RP
	clientID string
	secret   string
}

func (e *env) claimsApp(t *testing.T) *claimsRP {
	t.Helper()
	id, secret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
	return &claimsRP{e: e, clientID: id, secret: secret,
		rp: e.rp(storage.DefaultTenant, id, secret, "openid", "email", "offline_access", "organizations", "organization_roles")}
}

// tokens exchanges the code of a redirect to the client.
func (c *claimsRP) tokens(t *testing.T, resp *http.Response, verifier string) map[string]any {
	t.Helper()
	q := e2etest.RedirectParams(t, resp)
	status, body, _ := c.e.postForm(c.e.issuer(storage.DefaultTenant)+"/oauth/token", c.clientID, c.secret, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {callback}, "code_verifier": {verifier},
	})
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	return body
}

func (c *claimsRP) signUp(t *testing.T, b *e2etest.Browser, email string) map[string]any {
	t.Helper()
	v := oauth2.GenerateVerifier()
	return c.tokens(t, b.SignUp(c.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), email, "a long enough password", "Someone"), v)
}

func (c *claimsRP) signIn(t *testing.T, b *e2etest.Browser, email, password string) map[string]any {
	t.Helper()
	v := oauth2.GenerateVerifier()
	return c.tokens(t, b.SignIn(c.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "login")), email, password), v)
}

// refresh returns the tokens of a refresh, keeping the rotated token.
func (c *claimsRP) refresh(t *testing.T, tokens map[string]any) map[string]any {
	t.Helper()
	status, body, _ := c.e.postForm(c.e.issuer(storage.DefaultTenant)+"/oauth/token", c.clientID, c.secret, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tokens["refresh_token"].(string)},
	})
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	return body
}

// idClaims verifies the ID token of tokens and returns its claims.
func (c *claimsRP) idClaims(t *testing.T, tokens map[string]any) map[string]any {
	t.Helper()
	raw, _ := tokens["id_token"].(string)
	var claims map[string]any
	if err := c.rp.VerifyIDToken(raw).Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func orgRoles(claims map[string]any) []string {
	var out []string
	list, _ := claims["organization_roles"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

func TestSignUpVerificationProvisionsByDomain(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		smtp := mailtest.Start(t)
		e := newMailEnv(t, b, smtp)
		admin, _ := e.admin(t, storage.DefaultTenant)
		app := e.claimsApp(t)

		// Someone of acme.test signs up before the rule exists and
		// verifies their address.
		early := e.browser()
		earlyTokens := app.signUp(t, early, "early@acme.test")
		_, link := mailTo(t, smtp, "early@acme.test", "Verify")
		if resp, body := early.Get(link); resp.StatusCode != http.StatusOK {
			t.Fatalf("verification link: %d\n%s", resp.StatusCode, body)
		}

		org := admin.do("POST", "/admin/organizations", map[string]any{"name": "Acme"}).want(t, http.StatusCreated).str("id")
		admin.do("PUT", "/admin/organizations/"+org+"/jit/email-domains", map[string]any{"email_domains": []string{"ACME.test"}}).want(t, http.StatusOK)
		admin.do("PUT", "/admin/organizations/"+org+"/jit/roles", map[string]any{"roles": []string{"admin", "billing_manager"}}).want(t, http.StatusOK)
		wantRoles := []string{org + ":admin", org + ":billing_manager"}

		// A new user of acme.test: not a member while unverified.
		b1 := e.browser()
		tokens := app.signUp(t, b1, "new@acme.test")
		claims := app.idClaims(t, tokens)
		if claims["email_verified"] != false {
			t.Fatalf("email_verified before the link = %v", claims["email_verified"])
		}
		if roles := orgRoles(claims); slices.Contains(roles, wantRoles[0]) {
			t.Fatalf("unverified user is a member: %v", roles)
		}
		if _, err := e.srv.Store.GetMembership(e.ctx, storage.DefaultTenant, org, claims["sub"].(string)); err == nil {
			t.Fatal("unverified user became a member")
		}

		// The mail arrives; its link verifies; the next ID token shows
		// the default roles.
		m, link := mailTo(t, smtp, "new@acme.test", "Verify")
		if !strings.HasPrefix(link, e.ts.URL+"/t/default/") {
			t.Fatalf("link %q is not under the external URL", link)
		}
		if m.HTML == "" {
			t.Fatal("verification mail has no HTML part")
		}
		resp, body := b1.Get(link)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("verification link: %d\n%s", resp.StatusCode, body)
		}
		next := app.idClaims(t, app.refresh(t, tokens))
		if next["email_verified"] != true {
			t.Fatalf("email_verified after the link = %v", next["email_verified"])
		}
		for _, r := range wantRoles {
			if !slices.Contains(orgRoles(next), r) {
				t.Fatalf("organization_roles %v lacks %s", orgRoles(next), r)
			}
		}
		// The link is single use.
		if resp, _ := b1.Get(link); resp.StatusCode != http.StatusGone {
			t.Fatalf("second use of the link: %d, want 410", resp.StatusCode)
		}

		// The user who existed before the rule is not added by it.
		if roles := orgRoles(app.idClaims(t, app.refresh(t, earlyTokens))); slices.Contains(roles, wantRoles[0]) {
			t.Fatalf("existing user added by a later rule: %v", roles)
		}
		// A verified user of an unlisted domain is not a member.
		b2 := e.browser()
		other := app.signUp(t, b2, "someone@elsewhere.test")
		_, link = mailTo(t, smtp, "someone@elsewhere.test", "Verify")
		if resp, _ := b2.Get(link); resp.StatusCode != http.StatusOK {
			t.Fatalf("verification link: %d", resp.StatusCode)
		}
		if roles := orgRoles(app.idClaims(t, app.refresh(t, other))); slices.Contains(roles, wantRoles[0]) {
			t.Fatalf("user of an unlisted domain is a member: %v", roles)
		}

		// Provisioning is audited with actor jit.
		found := false
		for _, it := range admin.do("GET", "/admin/audit-log", nil).want(t, http.StatusOK).items() {
			if it["actor"] == "jit" && it["target"] == org {
				found = true
			}
		}
		if !found {
			t.Fatal("no audit entry with actor jit")
		}
	})
}

func TestInvitationEndToEnd(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		smtp := mailtest.Start(t)
		e := newMailEnv(t, b, smtp)
		admin, _ := e.admin(t, storage.DefaultTenant)
		app := e.claimsApp(t)
		org := admin.do("POST", "/admin/organizations", map[string]any{"name": "Initech"}).want(t, http.StatusCreated).str("id")
		invitations := "/admin/organizations/" + org + "/invitations"

		inv := admin.do("POST", invitations, map[string]any{"email": "Peter@Invitee.test", "roles": []string{"billing_manager"}}).want(t, http.StatusCreated)
		id := inv.str("id")
		if inv.str("status") != "pending" || inv.str("expires_at") == "" {
			t.Fatalf("created invitation: %v", inv.body)
		}
		first, firstLink := mailTo(t, smtp, "Peter@Invitee.test", "Initech")
		if !strings.Contains(first.Text, "Initech") {
			t.Fatalf("invitation mail does not name the organization:\n%s", first.Text)
		}

		// Resend: a new link; the first one is dead.
		admin.do("POST", invitations+"/"+id+"/resend", nil).want(t, http.StatusOK)
		_, link := mailTo(t, smtp, "Peter@Invitee.test", "Initech", first.MessageID)
		if link == firstLink {
			t.Fatal("resend sent the same link")
		}
		if resp, _ := e.browser().Get(firstLink); resp.StatusCode != http.StatusGone {
			t.Fatalf("replaced link: %d, want 410", resp.StatusCode)
		}

		// Registration through the link, with that email.
		br := e.browser()
		page, body := br.Get(link)
		if page.StatusCode != http.StatusOK {
			t.Fatalf("invitation page: %d\n%s", page.StatusCode, body)
		}
		resp, out := br.Submit(page, body, "Create account", map[string]string{"name": "Peter", "password": "a long enough password"})
		if resp.StatusCode != http.StatusOK || !strings.Contains(out, "Initech") {
			t.Fatalf("accepting by registration: %d\n%s", resp.StatusCode, out)
		}
		user, err := e.srv.Store.GetUserByEmail(e.ctx, storage.DefaultTenant, "peter@invitee.test")
		if err != nil {
			t.Fatal(err)
		}
		if !user.EmailVerified {
			t.Fatal("registration through the invitation left the email unverified")
		}
		m, err := e.srv.Store.GetMembership(e.ctx, storage.DefaultTenant, org, user.ID)
		if err != nil || !slices.Equal(m.Roles, []string{"billing_manager"}) {
			t.Fatalf("membership after acceptance: %v %v", m.Roles, err)
		}
		// The next token shows it.
		tokens := app.signIn(t, e.browser(), "peter@invitee.test", "a long enough password")
		if roles := orgRoles(app.idClaims(t, tokens)); !slices.Contains(roles, org+":billing_manager") {
			t.Fatalf("organization_roles after acceptance: %v", roles)
		}
		// The used link is gone.
		if resp, _ := e.browser().Get(link); resp.StatusCode != http.StatusGone {
			t.Fatalf("used link: %d, want 410", resp.StatusCode)
		}

		// Revoked and expired links are gone too; a different signed-in
		// email is refused.
		revoked := admin.do("POST", invitations, map[string]any{"email": "revoked@invitee.test"}).want(t, http.StatusCreated).str("id")
		_, revokedLink := mailTo(t, smtp, "revoked@invitee.test", "Initech")
		admin.do("DELETE", invitations+"/"+revoked, nil).want(t, http.StatusNoContent)
		if resp, _ := e.browser().Get(revokedLink); resp.StatusCode != http.StatusGone {
			t.Fatalf("revoked link: %d, want 410", resp.StatusCode)
		}
		expiring := admin.do("POST", invitations, map[string]any{"email": "late@invitee.test", "expires_in": 60}).want(t, http.StatusCreated).str("id")
		_, lateLink := mailTo(t, smtp, "late@invitee.test", "Initech")
		wrong := admin.do("POST", invitations, map[string]any{"email": "right@invitee.test"}).want(t, http.StatusCreated).str("id")
		_, wrongLink := mailTo(t, smtp, "right@invitee.test", "Initech")
		signedIn := e.browser()
		app.signUp(t, signedIn, "wrong@invitee.test")
		if resp, body := signedIn.Get(wrongLink); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("invitation opened by another signed-in email: %d\n%s", resp.StatusCode, body)
		}
		e.advance(2 * time.Minute) // the management token lives on
		if resp, _ := e.browser().Get(lateLink); resp.StatusCode != http.StatusGone {
			t.Fatalf("expired link: %d, want 410", resp.StatusCode)
		}

		// The list shows every transition.
		want := map[string]string{id: "accepted", revoked: "revoked", expiring: "expired", wrong: "pending"}
		got := map[string]string{}
		for _, it := range admin.do("GET", invitations, nil).want(t, http.StatusOK).items() {
			got[it["id"].(string)] = it["status"].(string)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("invitation %s: status %q, want %q (all: %v)", k, got[k], v, got)
			}
		}
	})
}

// TestInvitationMailSurvivesOutageAndRestart: the SMTP server is down when
// the invitation is made; orgid answers at once, keeps retrying, is
// restarted in between, and the mail arrives exactly once when the server
// is back.
func TestInvitationMailSurvivesOutageAndRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		smtp := mailtest.Start(t)
		smtp.Stop()
		clock := fakeclock.New(time.Now().Truncate(time.Second))
		store, eph, advance := b.open(t, clock)
		first := newEnvWith(t, clock, store, eph, advance, withSMTP(smtp))
		admin, _ := first.admin(t, storage.DefaultTenant)
		org := admin.do("POST", "/admin/organizations", map[string]any{"name": "Outage Inc"}).want(t, http.StatusCreated).str("id")
		admin.do("POST", "/admin/organizations/"+org+"/invitations", map[string]any{"email": "patient@outage.test"}).want(t, http.StatusCreated)

		// The first attempt fails and is recorded.
		msg := waitOutbox(t, first, func(m storage.MailMessage) bool { return m.Attempts >= 1 })
		if msg.Status != storage.MailPending || msg.LastError == "" {
			t.Fatalf("after a failed attempt: status %s, last error %q", msg.Status, msg.LastError)
		}

		// orgid restarts (same stores, same master key) while SMTP is down.
		first.ts.Close()
		first.srv.Close()
		second := newEnvWith(t, clock, store, eph, advance, withSMTP(smtp), func(o *server.Options) {
			o.Config.MasterKey = first.srv.Config.MasterKey
		})
		smtp.Restart(t)
		second.advance(time.Hour) // past any backoff
		got, _ := mailTo(t, smtp, "patient@outage.test", "Outage Inc")
		sent := waitOutbox(t, second, func(m storage.MailMessage) bool { return m.Status == storage.MailSent })
		if sent.ID != msg.ID {
			t.Fatalf("sent %s, want %s", sent.ID, msg.ID)
		}
		// Later polls send nothing more.
		second.advance(time.Hour)
		time.Sleep(200 * time.Millisecond) // several poll intervals: a duplicate would show
		if n := smtp.Count(got.MessageID); n != 1 {
			t.Fatalf("delivered %d times, want exactly once", n)
		}
	})
}

// waitOutbox waits until the tenant's only outbox message satisfies ok.
func waitOutbox(t *testing.T, e *env, ok func(storage.MailMessage) bool) storage.MailMessage {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		msgs, _, err := e.srv.Store.ListMail(e.ctx, storage.DefaultTenant, storage.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 1 && ok(msgs[0]) {
			return msgs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox never reached the state: %+v", msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
