package mail

import (
	"strings"
	"testing"
)

func TestSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		url      string
		host     string
		port     int
		tls      bool
		user     string
		password string
	}{
		{url: "smtp://mail.example.com", host: "mail.example.com", port: 25},
		{url: "smtp://mail.example.com:2525", host: "mail.example.com", port: 2525},
		{url: "smtp://bob:s3cret@mail.example.com", host: "mail.example.com", port: 587, user: "bob", password: "s3cret"},
		{url: "smtp://bob%40example.com:p%2Fss@mail.example.com:1587/", host: "mail.example.com", port: 1587, user: "bob@example.com", password: "p/ss"},
		{url: "smtps://mail.example.com", host: "mail.example.com", port: 465, tls: true},
		{url: "smtps://bob:s3cret@[::1]:4465", host: "::1", port: 4465, tls: true, user: "bob", password: "s3cret"},
	} {
		got, err := parseSMTPURL(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got.host != tc.host || got.port != tc.port || got.implicitTLS != tc.tls || got.user != tc.user || got.pass != tc.password {
			t.Errorf("%s: %+v", tc.url, *got)
		}
	}
}

func TestSMTPURLRefused(t *testing.T) {
	const password = "s3cretPW"
	for _, raw := range []string{
		"",
		"mail.example.com",
		"http://bob:" + password + "@mail.example.com",
		"smtp+tls://bob:" + password + "@mail.example.com",
		"lmtp://bob:" + password + "@mail.example.com",
		"smtp://bob:" + password + "@",
		"smtp://:" + password + "@mail.example.com",
		"smtp://bob:" + password + "@mail.example.com/path",
		"smtp://bob:" + password + "@mail.example.com?auth=plain",
		"smtp://bob:" + password + "@mail.example.com:99999",
		"smtp://bob:" + password + "@mail.example.com:port",
		"smtp://bob:" + password + "@mail example.com",
		"smtp://bob:" + password + "%zz@mail.example.com",
	} {
		tr, err := NewSMTPTransport(raw, "orgid <no-reply@example.com>")
		if err == nil {
			t.Errorf("%q accepted: %+v", raw, tr)
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%q: the error shows the password: %v", raw, err)
		}
		if !strings.HasPrefix(err.Error(), "mail: ") {
			t.Errorf("%q: unclear error %v", raw, err)
		}
	}
	if _, err := NewSMTPTransport("smtp://mail.example.com", "not an address"); err == nil {
		t.Error("a bad sender address was accepted")
	}
}

func TestHeaderSafe(t *testing.T) {
	m, err := Invitation(InvitationData{
		TenantID: "acme", Product: "Acme", To: "bob@acme.test\r\nBcc: eve@evil.test",
		OrganizationName: "Acme\r\nBcc: eve@evil.test", InviterName: "Alice\n", Link: "https://id.acme.test/i/x",
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject+m.To, "\r\n") {
		t.Errorf("control characters left: subject %q, to %q", m.Subject, m.To)
	}
}
