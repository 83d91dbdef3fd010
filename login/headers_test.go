package login

import "testing"

func TestRedirectSource(t *testing.T) {
	cases := map[string]string{
		"https://app.example.com/cb":        "https://app.example.com",
		"https://App.Example.com:8443/cb?x": "https://app.example.com:8443",
		"http://127.0.0.1:49152/callback":   "http://127.0.0.1:49152",
		"http://[::1]:8080/cb":              "http://[::1]:8080",
		"com.example.app:/oauth2redirect":   "com.example.app:",
		"javascript:alert(1)":               "",
		"data:text/html,x":                  "",
		"https://a.example;script-src *":    "",
		"https://a b.example/":              "",
		"":                                  "",
		"/relative":                         "",
		"https://user@host.example/":        "https://host.example",
	}
	for in, want := range cases {
		if got := redirectSource(in); got != want {
			t.Errorf("redirectSource(%q) = %q; want %q", in, got, want)
		}
	}
}
