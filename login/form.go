package login

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a user may type.
const (
	maxEmailLen       = 254 // octets, RFC 5321 §4.5.3.1.3 path limit less the brackets
	minPasswordLen    = 8   // characters, NIST SP 800-63B §5.1.1.2
	maxPasswordLen    = 256 // characters
	maxNameLen        = 200 // characters
	maxAuthRequestLen = 256
)

// Field names, shared by the forms, the templates and the error maps.
const (
	fieldEmail    = "email"
	fieldPassword = "password"
	fieldName     = "name"
)

// fieldErrors maps a field name to the user-safe message shown beside it.
type fieldErrors map[string]string

// loginForm is what POST /login carries.
type loginForm struct {
	Email    string
	Password string
}

// parseLoginForm reads the sign-in fields. Only presence is checked: an
// email that could never have been registered simply fails to sign in,
// with the same answer as a wrong password.
func parseLoginForm(v url.Values) (loginForm, fieldErrors) {
	f := loginForm{
		Email:    strings.TrimSpace(v.Get(fieldEmail)),
		Password: v.Get(fieldPassword),
	}
	errs := fieldErrors{}
	if f.Email == "" {
		errs[fieldEmail] = "Enter your email."
	} else if len(f.Email) > maxEmailLen || !utf8.ValidString(f.Email) {
		errs[fieldEmail] = "Enter a valid email address."
	}
	if f.Password == "" {
		errs[fieldPassword] = "Enter your password."
	}
	return f, errs
}

// signupForm is what POST /signup carries.
type signupForm struct {
	Email    string
	Password string
	Name     string
}

// parseSignupForm reads and validates the sign-up fields.
func parseSignupForm(v url.Values) (signupForm, fieldErrors) {
	f := signupForm{
		Email:    strings.TrimSpace(v.Get(fieldEmail)),
		Password: v.Get(fieldPassword),
		Name:     strings.TrimSpace(v.Get(fieldName)),
	}
	errs := fieldErrors{}
	if msg := checkEmail(f.Email); msg != "" {
		errs[fieldEmail] = msg
	}
	if msg := checkPassword(f.Password); msg != "" {
		errs[fieldPassword] = msg
	}
	if msg := checkName(f.Name); msg != "" {
		errs[fieldName] = msg
	}
	return f, errs
}

// checkEmail accepts a single bare address (no display name, no list) of
// at most maxEmailLen octets, as net/mail parses RFC 5322 addr-spec.
func checkEmail(s string) string {
	switch {
	case s == "":
		return "Enter your email."
	case len(s) > maxEmailLen:
		return "Email must be at most 254 characters."
	case !utf8.ValidString(s) || hasControl(s):
		return "Enter a valid email address, like name@example.com."
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "Enter a valid email address, like name@example.com."
	}
	return ""
}

func checkPassword(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case s == "":
		return "Enter a password."
	case !utf8.ValidString(s):
		return "Password contains characters that cannot be used."
	case n < minPasswordLen:
		return "Password must be at least 8 characters."
	case n > maxPasswordLen:
		return "Password must be at most 256 characters."
	}
	return ""
}

func checkName(s string) string {
	switch {
	case !utf8.ValidString(s) || hasControl(s):
		return "Name contains characters that cannot be used."
	case utf8.RuneCountInString(s) > maxNameLen:
		return "Name must be at most 200 characters."
	}
	return ""
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// authRequestID returns the authRequestID parameter of a form or query,
// or "" when it is absent or implausible.
func authRequestID(v url.Values) string {
	id := v.Get("authRequestID")
	if len(id) > maxAuthRequestLen || !utf8.ValidString(id) || hasControl(id) {
		return ""
	}
	return id
}
