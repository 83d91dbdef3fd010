package login

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/password"
)

// phcRE is an argon2id PHC hash with the OWASP parameters orgid uses.
var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestSignupFormPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.authRequest(nil)
	res := e.browser().get("/t/acme/signup?authRequestID=" + id)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{
		`<label for="email">Email</label>`,
		`autocomplete="email"`,
		`<label for="password">Password</label>`,
		`autocomplete="new-password"`,
		`<label for="name">Name</label>`,
		`autocomplete="name"`,
		`<button type="submit" class="primary">Create account</button>`,
		`href="login?authRequestID=` + id + `"`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	assertPageHeaders(t, res, "https://crm.example")
}

func TestSignup(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		personalOrg bool
		userName    string
		wantOrgName string
	}{
		{"with name", true, "Ada Lovelace", "Ada Lovelace's organization"},
		{"without name", true, "", "Personal organization"},
		{"personal organizations off", false, "Ada", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var opts []envOption
			if !c.personalOrg {
				opts = append(opts, withoutPersonalOrganization())
			}
			e := newEnv(t, opts...)
			ctx := context.Background()
			id := e.authRequest(nil)
			b := e.browser()
			res := b.submit("signup", id, url.Values{"email": {" Ada@Example.com "}, "password": {"a long password"}, "name": {c.userName}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != callback(id) {
				t.Fatalf("status %d to %q; want 303 to the callback:\n%s", res.StatusCode, res.Header.Get("Location"), res.body)
			}

			u, err := e.store.GetUserByEmail(ctx, testTenant, "ada@example.com")
			if err != nil {
				t.Fatalf("user not created: %v", err)
			}
			if !strings.HasPrefix(u.ID, "usr_") || u.Email != "Ada@Example.com" || u.EmailVerified || u.Name != c.userName {
				t.Errorf("user = %+v", u)
			}
			if !phcRE.MatchString(u.PasswordHash) {
				t.Errorf("password hash %q is not argon2id with the OWASP parameters", u.PasswordHash)
			}
			if ok, err := password.Verify(u.PasswordHash, "a long password"); !ok || err != nil {
				t.Errorf("stored hash does not verify: %v, %v", ok, err)
			}

			ms, err := e.store.ListUserMemberships(ctx, testTenant, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !c.personalOrg {
				if len(ms) != 0 {
					t.Errorf("memberships = %+v; want none with personal organizations off", ms)
				}
			} else {
				if len(ms) != 1 || !slices.Equal(ms[0].Roles, []string{"owner"}) {
					t.Fatalf("memberships = %+v; want one, as owner", ms)
				}
				org, err := e.store.GetOrganization(ctx, testTenant, ms[0].OrganizationID)
				if err != nil {
					t.Fatal(err)
				}
				if org.Name != c.wantOrgName || !strings.HasPrefix(org.ID, "org_") || !strings.HasPrefix(org.Slug, "personal-") ||
					!strings.HasPrefix(org.ProviderID, "prv_") || org.MFAPolicy != "configured" || org.MFARequired || string(org.CustomData) != "{}" {
					t.Errorf("organization = %+v", org)
				}
			}

			ar := e.getAuthRequest(id)
			ck := b.sessionCookie()
			if ck == nil || !ar.Done || ar.UserID != u.ID || !slices.Equal(ar.AMR, []string{"pwd"}) || ar.SessionID != ck.Value {
				t.Errorf("not signed in: cookie %+v, auth request %+v", ck, ar)
			}
		})
	}
}

func TestSignupPersonalSlugsAreUnique(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, email := range []string{"a@example.com", "b@example.com"} {
		res := e.browser().submit("signup", e.authRequest(nil), url.Values{"email": {email}, "password": {"password123"}, "name": {"Sam"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: status %d", email, res.StatusCode)
		}
	}
}

func TestSignupDuplicateEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	existing := e.user("ada@example.com", "correct horse")
	id := e.authRequest(nil)
	b := e.browser()
	res := b.submit("signup", id, url.Values{"email": {"ADA@example.COM"}, "password": {"another password"}, "name": {"Imposter"}})

	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d; want 422", res.StatusCode)
	}
	want := `<p class="field-error" id="email-error">An account with this email already exists. <a href="login?authRequestID=` + id + `">Sign in instead</a></p>`
	if !strings.Contains(res.body, want) {
		t.Errorf("page lacks %q:\n%s", want, res.body)
	}
	if !strings.Contains(res.body, `value="ADA@example.COM"`) || strings.Contains(res.body, "another password") {
		t.Error("form should keep the email and drop the password")
	}
	u, err := e.store.GetUserByEmail(ctx, testTenant, "ada@example.com")
	if err != nil || u.ID != existing.ID || u.PasswordHash != existing.PasswordHash || u.Name != existing.Name {
		t.Errorf("existing user changed: %+v, %v", u, err)
	}
	if ms, _ := e.store.ListUserMemberships(ctx, testTenant, existing.ID); len(ms) != 0 {
		t.Errorf("memberships written: %+v", ms)
	}
	if ar := e.getAuthRequest(id); ar.Done {
		t.Error("auth request completed")
	}
	if b.sessionCookie() != nil {
		t.Error("signed in")
	}
}

func TestSignupInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, email, password, userName string
		field, message                  string
	}{
		{"bad email", "ada at example", "password123", "", "email", "Enter a valid email address, like name@example.com."},
		{"email with name", "Ada <ada@example.com>", "password123", "", "email", "Enter a valid email address, like name@example.com."},
		{"long email", strings.Repeat("a", 250) + "@b.co", "password123", "", "email", "Email must be at most 254 characters."},
		{"short password", "ada@example.com", "short", "", "password", "Password must be at least 8 characters."},
		{"long password", "ada@example.com", strings.Repeat("p", 257), "", "password", "Password must be at most 256 characters."},
		{"long name", "ada@example.com", "password123", strings.Repeat("n", 201), "name", "Name must be at most 200 characters."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			id := e.authRequest(nil)
			b := e.browser()
			res := b.submit("signup", id, url.Values{"email": {c.email}, "password": {c.password}, "name": {c.userName}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d; want 422", res.StatusCode)
			}
			want := `<p class="field-error" id="` + c.field + `-error">` + c.message
			if !strings.Contains(res.body, want) {
				t.Errorf("page lacks %q:\n%s", want, res.body)
			}
			if !strings.Contains(res.body, `aria-invalid="true"`) || !strings.Contains(res.body, c.field+`-error"`) {
				t.Error("the field is not marked invalid and tied to its error")
			}
			if c.password != "" && strings.Contains(res.body, c.password) && len(c.password) > 5 {
				t.Error("password echoed back")
			}
			if _, err := e.store.GetUserByEmail(context.Background(), testTenant, c.email); err == nil {
				t.Error("user created despite the error")
			}
			if ar := e.getAuthRequest(id); ar.Done {
				t.Error("auth request completed")
			}
		})
	}
}

func TestSignupCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.authRequest(nil)
	res := e.browser().do(http.MethodPost, "/t/acme/signup?authRequestID="+id,
		url.Values{"authRequestID": {id}, "email": {"ada@example.com"}, "password": {"password123"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d; want 403", res.StatusCode)
	}
	if _, err := e.store.GetUserByEmail(context.Background(), testTenant, "ada@example.com"); err == nil {
		t.Error("user created without a CSRF token")
	}
}
