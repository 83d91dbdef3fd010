package mailtest

import "testing"

func TestLink(t *testing.T) {
	for text, want := range map[string]string{
		"Hello,\n\nOpen this link:\n\nhttps://id.example.com/t/acme/verify?token=abc\n\nThanks": "https://id.example.com/t/acme/verify?token=abc",
		"See https://example.com inline\r\n  http://127.0.0.1:8080/x  \r\n":                     "http://127.0.0.1:8080/x",
		"no link here\nhttps:// nothing\nftp://example.com/":                                    "",
	} {
		if got := Link(text); got != want {
			t.Errorf("Link(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	raw := "From: a@example.com\r\nTo: b@example.com\r\nSubject: =?UTF-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
		"Message-ID: <msg_1@orgid>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Open:\r\n\r\nhttps://example.com/a-very-long-path-that-quoted-printable-has-to-break-somewhere-o=\r\nr-other\r\n" +
		"--XX\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+SGVsbG88L3A+\r\n" +
		"--XX--\r\n"
	m := parse([]byte(raw))
	if m.Subject != "Grüße" || m.MessageID != "msg_1@orgid" || m.HTML != "<p>Hello</p>" {
		t.Errorf("%+v", m)
	}
	if got := Link(m.Text); got != "https://example.com/a-very-long-path-that-quoted-printable-has-to-break-somewhere-or-other" {
		t.Errorf("link %q in %q", got, m.Text)
	}
}
