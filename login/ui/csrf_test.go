package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRF(t *testing.T) {
	c := NewCSRF([]byte(strings.Repeat("k", 32)), false)
	other := NewCSRF([]byte(strings.Repeat("o", 32)), false)

	// Issue: a GET without a cookie gets one, HttpOnly and SameSite=Lax.
	rec := httptest.NewRecorder()
	token := c.Token(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("token set %d cookies; want 1", len(cookies))
	}
	ck := cookies[0]
	if ck.Name != "orgid_csrf" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Fatalf("cookie = %+v; want orgid_csrf, HttpOnly, SameSite=Lax, Path=/, not Secure over http", ck)
	}

	// A second GET with the cookie reuses it.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(ck)
	rec = httptest.NewRecorder()
	if again := c.Token(rec, req); again != token || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("second token = %q (cookies %v); want the same token, no new cookie", again, rec.Result().Cookies())
	}

	post := func(cookie *http.Cookie, field string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{CSRFField: {field}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != nil {
			r.AddCookie(cookie)
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	forged := &http.Cookie{Name: "orgid_csrf", Value: strings.Repeat("A", 43)}
	// The tampered field differs from the token in its last character
	// (which may already be an A).
	tampered := token[:len(token)-1] + "A"
	if tampered == token {
		tampered = token[:len(token)-1] + "B"
	}
	cases := []struct {
		name   string
		c      CSRF
		r      *http.Request
		wantOK bool
	}{
		{"matching", c, post(ck, token), true},
		{"no field", c, post(ck, ""), false},
		{"no cookie", c, post(nil, token), false},
		{"other cookie", c, post(forged, token), false},
		{"tampered field", c, post(ck, tampered), false},
		{"cookie value as field", c, post(ck, ck.Value), false},
		{"other key", other, post(ck, token), false},
	}
	for _, tc := range cases {
		if got := tc.c.Valid(tc.r); got != tc.wantOK {
			t.Errorf("%s: valid = %v; want %v", tc.name, got, tc.wantOK)
		}
	}

	// Over https the cookie is Secure and host-only.
	rec = httptest.NewRecorder()
	NewCSRF(c.key, true).Token(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if ck := rec.Result().Cookies()[0]; ck.Name != "__Host-orgid_csrf" || !ck.Secure {
		t.Errorf("https cookie = %+v; want __Host-orgid_csrf, Secure", ck)
	}
}

func TestSetPageHeaders(t *testing.T) {
	h := http.Header{}
	SetPageHeaders(h, "https://app.example.com", "")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' https:; frame-ancestors 'none'; form-action 'self' https://app.example.com",
		"Cache-Control":           "no-store",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
}
