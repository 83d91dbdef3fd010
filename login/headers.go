package login

import (
	"net/url"
	"regexp"
	"strings"
)

var (
	schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)
	hostRE   = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)
)

// redirectSource returns the CSP source expression that admits a redirect
// to uri: its origin for http(s), its scheme for a native app's private
// scheme (RFC 8252 §7.1), or "" when uri is not something safe to put in a
// header.
func redirectSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "javascript", "data", "blob", "filesystem", "about":
		return ""
	}
	if !schemeRE.MatchString(scheme) {
		return ""
	}
	if scheme == "http" || scheme == "https" {
		if !hostRE.MatchString(u.Host) {
			return ""
		}
		return scheme + "://" + strings.ToLower(u.Host)
	}
	return scheme + ":"
}
