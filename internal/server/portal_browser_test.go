package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/browsertest"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/storage"
)

// The portal in a real browser (Debian's Chromium through chromedp):
// the flows of issue 10 as a person clicks through them, with an axe-core
// check of every page they reach. Without Chromium these tests skip,
// unless ORGID_TEST_BROWSER=1 (.ci/run), when they fail.

// lastMailLink returns the link of the newest message of kind to email
// (DESIGN §5: a plain absolute URL on a line of its own in the text part).
func (e *env) lastMailLink(t testing.TB, kind, to string) string {
	t.Helper()
	ctx := context.Background()
	msgs, _, err := e.srv.Store.ListMail(ctx, storage.DefaultTenant, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs { // newest first
		if m.Kind != kind || !strings.EqualFold(m.To, to) {
			continue
		}
		full, err := e.srv.Manage.GetMail(ctx, storage.DefaultTenant, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(full.Text, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "http") {
				return line
			}
		}
	}
	t.Fatalf("no %s mail to %s", kind, to)
	return ""
}

// browse is a person in their own browser context.
type browse struct {
	*browsertest.Page
	e *env
}

func (e *env) browse(t *testing.T, opts ...browsertest.Option) *browse {
	return &browse{Page: browsertest.New(t).NewPage(t, opts...), e: e}
}

// open goes to a tenant path and checks the page's accessibility.
func (b *browse) open(path string) {
	b.Go(b.e.issuer(storage.DefaultTenant) + path)
	b.Axe()
}

// signUp creates an account through the portal's sign-in and lands on the
// portal home.
func (b *browse) signUp(t *testing.T, email, name string) {
	t.Helper()
	b.open("/portal")
	b.Click("Create an account")
	b.Axe()
	b.Fill("Email", email)
	b.Fill("Password", "correct horse battery")
	b.Fill("Name", name)
	b.Click("Create account")
	b.wantPath(t, "/t/default/portal")
	b.Axe()
}

func (b *browse) wantPath(t *testing.T, path string) {
	t.Helper()
	if got := b.URL(); !strings.Contains(got, path) {
		t.Fatalf("at %s; want %s", got, path)
	}
}

func (b *browse) wantText(t *testing.T, s string) {
	t.Helper()
	if !b.HasText(s) {
		t.Fatalf("page %s does not say %q", b.URL(), s)
	}
}

// TestBrowserOrganizationFlow: sign up → personal organization → create
// organization → invite → accept from the mail link in a second browser
// context → change role → remove; with JavaScript, and without it.
func TestBrowserOrganizationFlow(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []browsertest.Option
	}{{"javascript", nil}, {"no-javascript", []browsertest.Option{browsertest.WithoutJavaScript()}}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, embedded)
			owner := e.browse(t, mode.opts...)
			owner.signUp(t, "olive@acme.test", "Olive Owner")
			owner.wantText(t, "Olive Owner's organization")

			owner.Fill("Name", "Acme Corp")
			owner.Fill("Slug", "acme")
			owner.Click("Create organization")
			owner.wantPath(t, "/portal/o/acme/")
			owner.wantText(t, "Organization created.")
			owner.Axe()

			owner.open("/portal/o/acme/members")
			owner.Fill("Email", "bob@acme.test")
			owner.Click("Invite member")
			owner.wantPath(t, "/portal/o/acme/invitations")
			owner.wantText(t, "bob@acme.test")
			owner.Axe()

			// Bob follows the mail's link in his own browser and signs up
			// with that address.
			bob := e.browse(t, mode.opts...)
			bob.Go(e.lastMailLink(t, "invitation", "bob@acme.test"))
			bob.Axe()
			bob.Fill("Name", "Bob Builder")
			bob.Fill("Password", "correct horse battery")
			bob.Click("Create account")
			bob.wantText(t, "Acme Corp")
			bob.Axe()

			owner.open("/portal/o/acme/members")
			owner.wantText(t, "bob@acme.test")
			owner.Check("admin for bob@acme.test", true)
			owner.Click("Save roles for bob@acme.test")
			owner.wantText(t, "Roles changed.")
			owner.Axe()
			access(t, e, "acme", "bob@acme.test", "admin", "member")

			owner.Click("Remove bob@acme.test")
			owner.Axe()
			owner.Click("Remove member")
			owner.wantText(t, "Member removed.")
			if owner.HasText("bob@acme.test") {
				t.Errorf("bob is still listed after removal")
			}
			access(t, e, "acme", "bob@acme.test")
		})
	}
}

// access checks email's roles in the organization with slug (none: not a
// member).
func access(t *testing.T, e *env, slug, email string, roles ...string) {
	t.Helper()
	ctx := context.Background()
	org, err := e.srv.Store.GetOrganizationBySlug(ctx, storage.DefaultTenant, slug)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.srv.Store.GetUserByEmail(ctx, storage.DefaultTenant, email)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.srv.Store.GetMembership(ctx, storage.DefaultTenant, org.ID, u.ID)
	if len(roles) == 0 {
		if err == nil {
			t.Errorf("%s is still a member of %s with %v", email, slug, m.Roles)
		}
		return
	}
	if err != nil || strings.Join(m.Roles, ",") != strings.Join(roles, ",") {
		t.Errorf("%s in %s: roles %v, %v; want %v", email, slug, m.Roles, err, roles)
	}
}

// screenshotDir is where TestBrowserScreenshots writes: docs/screenshots
// when ORGID_SCREENSHOTS names it (the documented command), else a
// temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("ORGID_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func pngSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestBrowserMFAEnrolment: the account's security page, read as a person
// without a camera would: the key from #totp-secret typed into an
// authenticator (here internal/mfa), the code confirmed, recovery codes
// shown once.
func TestBrowserMFAEnrolment(t *testing.T) {
	e := newEnv(t, embedded)
	p := e.browse(t)
	p.signUp(t, "mia@acme.test", "Mia Factor")
	p.open("/account/security")
	secret := strings.TrimSpace(p.Text("#totp-secret"))
	if len(secret) < 16 {
		t.Fatalf("#totp-secret = %q; want the base32 key", secret)
	}
	code, err := mfa.Code(secret, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.Fill("Verification code", code)
	p.Click("Verify")
	p.Axe()
	p.wantText(t, "recovery")
	u, err := e.srv.Store.GetUserByEmail(context.Background(), storage.DefaultTenant, "mia@acme.test")
	if err != nil || !u.MFAEnabled {
		t.Fatalf("after enrolment the user has MFA %v (%v); want on", u.MFAEnabled, err)
	}
}

// TestBrowserAuthenticationKeys: an owner generates an authentication key
// for their identity service; the private key is shown once.
func TestBrowserAuthenticationKeys(t *testing.T) {
	e := newEnv(t, embedded)
	p := e.browse(t)
	p.signUp(t, "kai@acme.test", "Kai Keys")
	p.Fill("Name", "Acme Corp")
	p.Fill("Slug", "acme")
	p.Click("Create organization")
	p.open("/portal/o/acme/authentication")
	p.wantText(t, "Provider ID")
	p.Select("Algorithm", "ES256")
	p.Click("Generate key")
	p.Axe()
	if !strings.Contains(p.Text("#private-key"), "BEGIN PRIVATE KEY") {
		t.Fatalf("the generated private key is not shown")
	}
	org, _ := e.srv.Store.GetOrganizationBySlug(context.Background(), storage.DefaultTenant, "acme")
	ks, err := e.srv.Store.ListAuthKeys(context.Background(), storage.DefaultTenant, org.ID)
	if err != nil || len(ks) != 1 || ks[0].Alg != "ES256" {
		t.Fatalf("keys = %+v, %v; want one ES256 key", ks, err)
	}
	p.open("/portal/o/acme/authentication")
	if strings.Contains(p.Text("body"), "PRIVATE KEY") {
		t.Errorf("the private key is shown again")
	}
	p.wantText(t, ks[0].KID)
}

// TestBrowserJITSettings: an owner lists an email domain and default
// roles for just-in-time provisioning.
func TestBrowserJITSettings(t *testing.T) {
	e := newEnv(t, embedded)
	p := e.browse(t, browsertest.WithoutJavaScript())
	p.signUp(t, "jo@acme.test", "Jo JIT")
	p.Fill("Name", "Acme Corp")
	p.Fill("Slug", "acme")
	p.Click("Create organization")
	p.open("/portal/o/acme/settings")
	p.Fill("Email domains", "acme.test")
	p.Check("admin", true)
	p.Click("Save just-in-time provisioning")
	p.Axe()
	p.wantText(t, "Just-in-time provisioning saved.")
	org, _ := e.srv.Store.GetOrganizationBySlug(context.Background(), storage.DefaultTenant, "acme")
	rule, err := e.srv.Store.GetJITRule(context.Background(), storage.DefaultTenant, org.ID)
	if err != nil || strings.Join(rule.EmailDomains, ",") != "acme.test" || !slices.Contains(rule.Roles, "admin") {
		t.Errorf("JIT rule = %+v, %v; want acme.test with admin", rule, err)
	}
}

// TestBrowserScreenshots takes the README's pictures: the portal home,
// Members, Authentication and Billing at 1280 and 360 px wide, of an
// organization with a few members, a key and some usage. With
// ORGID_SCREENSHOTS=$PWD/docs/screenshots it writes them there; otherwise
// to a temporary directory, so that the run still proves the pages render
// at both widths.
func TestBrowserScreenshots(t *testing.T) {
	e := newEnv(t, embedded)
	dir := screenshotDir(t)
	owner := e.browse(t)
	owner.signUp(t, "olivia@acme.test", "Olivia Park")
	owner.Fill("Name", "Acme Corp")
	owner.Fill("Slug", "acme")
	owner.Click("Create organization")
	ctx := context.Background()
	org, err := e.srv.Store.GetOrganizationBySlug(ctx, storage.DefaultTenant, "acme")
	if err != nil {
		t.Fatal(err)
	}
	a := manage.Actor{ID: "screenshots"}
	for _, m := range []struct{ email, name, role string }{
		{"sam@acme.test", "Sam Rivera", "admin"},
		{"jo@acme.test", "Jo Chen", "billing_manager"},
		{"alex@acme.test", "Alex Morgan", "member"},
	} {
		email, name, verified := m.email, m.name, true
		u, err := e.srv.Manage.CreateUser(ctx, storage.DefaultTenant, a, manage.UserInput{Email: &email, Name: &name, EmailVerified: &verified})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Manage.AddMembers(ctx, storage.DefaultTenant, a, org.ID, []string{u.ID}, []string{m.role}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.srv.Manage.CreateAuthKey(ctx, storage.DefaultTenant, a, org.ID, manage.AuthKeyRequest{Alg: "ES256"}); err != nil {
		t.Fatal(err)
	}
	app, secret := e.app(storage.DefaultTenant, storage.AppM2M, "", func(x *storage.Application) {
		x.Name, x.RedirectURIs, x.PostLogoutRedirectURIs, x.OrganizationID = "Nightly sync", nil, nil, org.ID
	})
	e.link(t, org.ID, app, "member")
	for range 12 {
		if status, body := e.orgClientToken(t, app, secret, org.ID); status != http.StatusOK {
			t.Fatalf("token: %d %v", status, body)
		}
	}
	if err := e.srv.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}

	shots := []struct{ name, path string }{
		{"home", "/portal"},
		{"members", "/portal/o/acme/members"},
		{"authentication", "/portal/o/acme/authentication"},
		{"billing", "/portal/o/acme/billing"},
	}
	for _, width := range []int{1280, 360} {
		p := owner
		if width != 1280 {
			// Another page of the same person: sign in again at this width.
			p = e.browse(t, browsertest.WithWidth(width))
			p.open("/portal")
			p.Fill("Email", "olivia@acme.test")
			p.Fill("Password", "correct horse battery")
			p.Click("Sign in")
		}
		for _, s := range shots {
			p.open(s.path)
			file := filepath.Join(dir, fmt.Sprintf("%s-%d.png", s.name, width))
			p.Screenshot(file)
			if n := pngSize(t, file); n < 10_000 {
				t.Errorf("%s is %d bytes; want a real picture", file, n)
			}
		}
	}
}

// TestBrowserBillingVisibility: the Billing tab per role (DESIGN §5):
// the owner sees Billing and Settings, a billing_manager Billing but not
// Settings, a member neither; each page passes the accessibility check,
// the Billing page with its usage chart too.
func TestBrowserBillingVisibility(t *testing.T) {
	e := newEnv(t, embedded)
	owner := e.browse(t)
	owner.signUp(t, "olive@acme.test", "Olive Owner")
	owner.Fill("Name", "Acme Corp")
	owner.Fill("Slug", "acme")
	owner.Click("Create organization")
	owner.wantPath(t, "/portal/o/acme/")

	ctx := context.Background()
	org, err := e.srv.Store.GetOrganizationBySlug(ctx, storage.DefaultTenant, "acme")
	if err != nil {
		t.Fatal(err)
	}
	people := map[string]*browse{"owner": owner}
	for _, m := range []struct{ role, email, name string }{
		{"billing_manager", "bill@acme.test", "Bill Manager"},
		{"member", "mel@acme.test", "Mel Member"},
	} {
		p := e.browse(t)
		p.signUp(t, m.email, m.name)
		u, err := e.srv.Store.GetUserByEmail(ctx, storage.DefaultTenant, m.email)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Manage.AddMembers(ctx, storage.DefaultTenant, manage.Actor{ID: "test"}, org.ID, []string{u.ID}, []string{m.role}); err != nil {
			t.Fatal(err)
		}
		people[m.role] = p
	}

	for _, c := range []struct {
		role              string
		billing, settings bool
	}{
		{"owner", true, true},
		{"billing_manager", true, false},
		{"member", false, false},
	} {
		p := people[c.role]
		p.open("/portal/o/acme")
		p.wantText(t, "Acme Corp")
		tabs := p.In(`nav[aria-label="Organization"]`)
		if got := tabs.HasText("Billing"); got != c.billing {
			t.Errorf("%s sees the Billing tab: %v; want %v", c.role, got, c.billing)
		}
		if got := tabs.HasText("Settings"); got != c.settings {
			t.Errorf("%s sees the Settings tab: %v; want %v", c.role, got, c.settings)
		}
		if c.billing {
			p.Click("Billing")
			p.wantPath(t, "/portal/o/acme/billing")
			p.wantText(t, "Development — not live")
			p.wantText(t, "Request go live")
			p.Axe()
			if label := p.Text(`svg.chart[role="img"] title`); !strings.Contains(label, "Tokens issued per month") {
				t.Errorf("%s: the usage chart's title is %q", c.role, label)
			}
		}
	}
}
