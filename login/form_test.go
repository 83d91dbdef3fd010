package login

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseSignupForm(t *testing.T) {
	cases := []struct {
		name, email, password, userName string
		wantErr                         []string // fields with an error
	}{
		{"valid", "ada@example.com", "password1", "Ada Lovelace", nil},
		{"valid without name", "ada@example.com", "password1", "", nil},
		{"trimmed", "  ada@example.com ", "password1", " Ada ", nil},
		{"8 characters", "a@b.co", "12345678", "", nil},
		{"8 runes, more bytes", "a@b.co", "ääääääää", "", nil},
		{"256 characters", "a@b.co", strings.Repeat("p", 256), "", nil},
		{"empty", "", "", "", []string{fieldEmail, fieldPassword}},
		{"no at", "ada.example.com", "password1", "", []string{fieldEmail}},
		{"display name", "Ada <ada@example.com>", "password1", "", []string{fieldEmail}},
		{"angle brackets", "<ada@example.com>", "password1", "", []string{fieldEmail}},
		{"two addresses", "ada@example.com, bob@example.com", "password1", "", []string{fieldEmail}},
		{"255 octets", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", "password1", "", []string{fieldEmail}},
		{"newline", "ada@example.com\nBcc: x@y.z", "password1", "", []string{fieldEmail}},
		{"7 characters", "a@b.co", "1234567", "", []string{fieldPassword}},
		{"257 characters", "a@b.co", strings.Repeat("p", 257), "", []string{fieldPassword}},
		{"invalid utf-8 password", "a@b.co", "passw\xffrd", "", []string{fieldPassword}},
		{"201-character name", "a@b.co", "password1", strings.Repeat("n", 201), []string{fieldName}},
		{"200-character name", "a@b.co", "password1", strings.Repeat("é", 200), nil},
		{"control in name", "a@b.co", "password1", "Ada\x00", []string{fieldName}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, errs := parseSignupForm(url.Values{fieldEmail: {c.email}, fieldPassword: {c.password}, fieldName: {c.userName}})
			if len(errs) != len(c.wantErr) {
				t.Fatalf("errors = %v; want errors on %v", errs, c.wantErr)
			}
			for _, field := range c.wantErr {
				if errs[field] == "" {
					t.Errorf("no error on %s; errors = %v", field, errs)
				}
			}
			if len(c.wantErr) == 0 && (f.Email != strings.TrimSpace(c.email) || f.Name != strings.TrimSpace(c.userName) || f.Password != c.password) {
				t.Errorf("form = %+v; want trimmed email and name, password as typed", f)
			}
		})
	}
}

func TestParseLoginForm(t *testing.T) {
	cases := []struct {
		name    string
		v       url.Values
		wantErr []string
	}{
		{"valid", url.Values{fieldEmail: {" ada@example.com "}, fieldPassword: {" pw "}}, nil},
		{"empty", url.Values{}, []string{fieldEmail, fieldPassword}},
		{"no password", url.Values{fieldEmail: {"ada@example.com"}}, []string{fieldPassword}},
		{"long email", url.Values{fieldEmail: {strings.Repeat("a", 255)}, fieldPassword: {"x"}}, []string{fieldEmail}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, errs := parseLoginForm(c.v)
			if len(errs) != len(c.wantErr) {
				t.Fatalf("errors = %v; want errors on %v", errs, c.wantErr)
			}
			for _, field := range c.wantErr {
				if errs[field] == "" {
					t.Errorf("no error on %s", field)
				}
			}
			if c.wantErr == nil && (f.Email != "ada@example.com" || f.Password != " pw ") {
				t.Errorf("form = %+v; want the email trimmed and the password untouched", f)
			}
		})
	}
}

func TestAuthRequestID(t *testing.T) {
	cases := map[string]string{
		"ar_123":                    "ar_123",
		"":                          "",
		strings.Repeat("a", 257):    "",
		"a\nb":                      "",
		"\xff":                      "",
		strings.Repeat("a", 256):    strings.Repeat("a", 256),
		"V1StGXR8_Z5jdHi6B-myT.abc": "V1StGXR8_Z5jdHi6B-myT.abc",
	}
	for in, want := range cases {
		if got := authRequestID(url.Values{"authRequestID": {in}}); got != want {
			t.Errorf("authRequestID(%q) = %q; want %q", in, got, want)
		}
	}
}

// FuzzSignupForm: validation never panics, reports errors only on known
// fields, and whatever it accepts is within the limits.
func FuzzSignupForm(f *testing.F) {
	f.Add("ada@example.com", "password1", "Ada")
	f.Add("Ada <ada@example.com>", "short", "")
	f.Add("\"quoted\"@[127.0.0.1]", strings.Repeat("p", 300), "\x00")
	f.Add("a@b", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", strings.Repeat("n", 201))
	f.Fuzz(func(t *testing.T, email, password, name string) {
		form, errs := parseSignupForm(url.Values{fieldEmail: {email}, fieldPassword: {password}, fieldName: {name}})
		for field, msg := range errs {
			if field != fieldEmail && field != fieldPassword && field != fieldName {
				t.Fatalf("error on unknown field %q", field)
			}
			if msg == "" {
				t.Fatalf("empty message for %s", field)
			}
		}
		if errs[fieldEmail] == "" {
			if form.Email == "" || len(form.Email) > maxEmailLen || !utf8.ValidString(form.Email) || !strings.Contains(form.Email, "@") || hasControl(form.Email) {
				t.Fatalf("accepted email %q", form.Email)
			}
		}
		if errs[fieldPassword] == "" {
			if n := utf8.RuneCountInString(form.Password); n < minPasswordLen || n > maxPasswordLen || !utf8.ValidString(form.Password) {
				t.Fatalf("accepted password of %d characters", n)
			}
		}
		if errs[fieldName] == "" {
			if utf8.RuneCountInString(form.Name) > maxNameLen || !utf8.ValidString(form.Name) || hasControl(form.Name) {
				t.Fatalf("accepted name %q", form.Name)
			}
		}
	})
}

// FuzzLoginForm: the sign-in form never panics and never reports an error
// for what it accepts.
func FuzzLoginForm(f *testing.F) {
	f.Add("ada@example.com", "pw")
	f.Add("", "")
	f.Add(strings.Repeat("a", 300), "\x00")
	f.Fuzz(func(t *testing.T, email, password string) {
		form, errs := parseLoginForm(url.Values{fieldEmail: {email}, fieldPassword: {password}})
		if errs[fieldEmail] == "" && (form.Email == "" || len(form.Email) > maxEmailLen) {
			t.Fatalf("accepted email %q", form.Email)
		}
		if errs[fieldPassword] == "" && form.Password == "" {
			t.Fatal("accepted an empty password")
		}
	})
}
