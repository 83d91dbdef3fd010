package jit

import (
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrInvalidDomain: not a domain name a mail address can have.
var ErrInvalidDomain = errors.New("not a valid email domain")

// profile maps a domain to its ASCII (punycode) form the way lookups do
// (UTS #46, transitional off), and checks every label.
var profile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(true), idna.ValidateLabels(true), idna.VerifyDNSLength(true))

// NormalizeDomain returns the domain's canonical form: lowercase ASCII
// (IDNA A-labels), without a trailing dot. "Bücher.Example" and
// "xn--bcher-kva.example" are the same domain. It needs at least two
// labels: a bare "com" or "localhost" is not an organization's domain.
func NormalizeDomain(s string) (string, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	// The profile lets invalid UTF-8 through (as U+FFFD, encoded into an
	// A-label that it then refuses).
	if s == "" || strings.ContainsAny(s, "@/ ") || !utf8.ValidString(s) {
		return "", ErrInvalidDomain
	}
	d, err := profile.ToASCII(s)
	// ToASCII keeps an empty last label: "example.com.." would come out
	// as "example.com.", and "a.." as "a.".
	if err != nil || !strings.Contains(d, ".") || strings.HasSuffix(d, ".") {
		return "", ErrInvalidDomain
	}
	return strings.ToLower(d), nil
}

// EmailDomain returns the normalised domain of an email address.
func EmailDomain(email string) (string, error) {
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return "", ErrInvalidDomain
	}
	return NormalizeDomain(email[at+1:])
}

// IsPublicMailDomain says d (normalised) is a public mail provider's:
// anybody can have an address there, so it proves no tie to an
// organization and may not be listed for provisioning.
func IsPublicMailDomain(d string) bool {
	_, ok := publicMailDomains[d]
	return ok
}

// publicMailDomains are the big free mail providers.
var publicMailDomains = map[string]struct{}{}

func init() {
	for _, d := range []string{
		"gmail.com", "googlemail.com",
		"outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com", "live.co.uk", "msn.com", "passport.com",
		"yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.co.jp", "ymail.com", "rocketmail.com",
		"icloud.com", "me.com", "mac.com",
		"proton.me", "protonmail.com", "protonmail.ch", "pm.me",
		"aol.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "zoho.com", "zohomail.com",
		"yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com",
		"tutanota.com", "tuta.io", "fastmail.com", "hey.com", "mailbox.org", "posteo.de",
	} {
		publicMailDomains[d] = struct{}{}
	}
}
