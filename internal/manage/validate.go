package manage

import (
	"bytes"
	"encoding/json"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orgid/orgid/internal/secure"
)

// Limits on what clients may store.
const (
	maxNameLen        = 200 // characters: organization, user, tenant names
	maxDescriptionLen = 2000
	maxURLLen         = 2000
	maxCustomData     = 16 << 10 // bytes of compact JSON
	maxEmailLen       = 254      // octets, RFC 5321 §4.5.3.1.3
	minPasswordLen    = 8        // characters, NIST SP 800-63B §5.1.1.2
	maxPasswordLen    = 256
	maxPermissionLen  = 100
	// maxBatch bounds how many users one request adds to an organization,
	// so one transaction stays short.
	maxBatch = 100
)

// slugRE is a URL-safe label: lowercase letters, digits and inner hyphens,
// at most 64 characters (a DNS label's length, so a slug can become one).
var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// permissionRE is "action:resource", e.g. read:invoices or
// write:reports:monthly.
var permissionRE = regexp.MustCompile(`^[a-z0-9_.-]+:[a-z0-9_.:-]+$`)

// roleRE is a role name, e.g. owner or billing_manager.
var roleRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// checkName requires a non-blank printable text of at most maxNameLen
// characters.
func checkName(field, s string) error {
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "":
		return fieldErr(field, "is required")
	case n > maxNameLen:
		return fieldErr(field, "must be at most %d characters", maxNameLen)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fieldErr(field, "contains characters that cannot be used")
	}
	return nil
}

// checkText allows multi-line text of at most limit characters.
func checkText(field, s string, limit int) error {
	if utf8.RuneCountInString(s) > limit {
		return fieldErr(field, "must be at most %d characters", limit)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		return fieldErr(field, "contains characters that cannot be used")
	}
	return nil
}

func checkSlug(field, s string) error {
	if !slugRE.MatchString(s) {
		return fieldErr(field, "must be 1 to 64 lowercase letters, digits and hyphens, starting and ending with a letter or digit")
	}
	return nil
}

// deriveSlug makes a slug from a name (DESIGN §4: lowercase words joined
// by "-"), cut to 64 characters at a word boundary when it can be.
func deriveSlug(name string) string {
	s := secure.Slug(name)
	if len(s) > 64 {
		s = s[:64]
		if i := strings.LastIndexByte(s, '-'); i > 0 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	return s
}

// checkLogoURL allows an absolute https URL, or http on a loopback host
// for development; browsers load it, so nothing else (javascript:, data:)
// is accepted.
func checkLogoURL(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURLLen || u.Host == "" || u.User != nil {
		return fieldErr(field, "must be an absolute https URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fieldErr(field, "must be an absolute https URL (http only on 127.0.0.1, [::1] or localhost)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkCustomData requires a JSON object of at most 16 KiB and returns it
// compacted.
func checkCustomData(field string, raw json.RawMessage) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fieldErr(field, "must be a JSON object")
	}
	if b := buf.Bytes(); len(b) == 0 || b[0] != '{' {
		return nil, fieldErr(field, "must be a JSON object")
	}
	if buf.Len() > maxCustomData {
		return nil, fieldErr(field, "must be at most %d bytes of JSON", maxCustomData)
	}
	return buf.Bytes(), nil
}

// checkEmail accepts a bare address (no display name, no angle brackets).
func checkEmail(field, s string) error {
	if s == "" {
		return fieldErr(field, "is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > maxEmailLen {
		return fieldErr(field, "must be a valid email address of at most %d characters", maxEmailLen)
	}
	return nil
}

func checkPassword(field, s string) error {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return fieldErr(field, "contains characters that cannot be used")
	case n < minPasswordLen || n > maxPasswordLen:
		return fieldErr(field, "must be %d to %d characters", minPasswordLen, maxPasswordLen)
	}
	return nil
}

func checkPermissionName(field, s string) error {
	if s == "" {
		return fieldErr(field, "is required")
	}
	if len(s) > maxPermissionLen || !permissionRE.MatchString(s) {
		return fieldErr(field, "must look like action:resource (lowercase letters, digits, _ . - and :), at most %d characters", maxPermissionLen)
	}
	return nil
}

func checkRoleName(field, s string) error {
	if s == "" {
		return fieldErr(field, "is required")
	}
	if !roleRE.MatchString(s) {
		return fieldErr(field, "must be 1 to 64 lowercase letters, digits, _ and -")
	}
	return nil
}

// names returns a sorted copy of list without duplicates, never nil.
func names(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}
