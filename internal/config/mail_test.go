package config

import (
	"bytes"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestSMTPURLIsSecret(t *testing.T) {
	const url = "smtp://bob:s3cretPW@mail.example.com"
	var c Config
	var out bytes.Buffer
	fs := c.NewFlagSet("serve", nil, env(map[string]string{"ORGID_SMTP_URL": url}), &out)
	fs.Usage()
	if !strings.Contains(out.String(), "--smtp-url") || strings.Contains(out.String(), "s3cretPW") {
		t.Errorf("help shows the SMTP URL or lacks the flag:\n%s", out.String())
	}
	if err := c.Validate(); err != nil || c.SMTPURL != url {
		t.Errorf("SMTPURL %q, %v", c.SMTPURL, err)
	}
}

func TestSMTPURLValidated(t *testing.T) {
	for _, raw := range []string{
		"http://bob:s3cretPW@mail.example.com",
		"smtp://bob:s3cretPW@",
		"smtp://bob:s3cretPW@mail.example.com/x",
		"smtp://bob:s3cretPW%zz@mail.example.com",
		"mail.example.com:25",
	} {
		_, err := Defaults(env(map[string]string{"ORGID_SMTP_URL": raw}))
		if err == nil || !strings.Contains(err.Error(), "ORGID_SMTP_URL") {
			t.Errorf("%q: %v", raw, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cretPW") {
			t.Errorf("%q: the error shows the password: %v", raw, err)
		}
	}
	for _, raw := range []string{"smtp://mail.example.com", "smtps://bob:pw@mail.example.com:465", "smtp://127.0.0.1:2525"} {
		if _, err := Defaults(env(map[string]string{"ORGID_SMTP_URL": raw})); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func TestMailFrom(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"ORGID_EXTERNAL_URL": "https://id.example.com:8443/"}, "orgid <no-reply@id.example.com>"},
		{map[string]string{"ORGID_EXTERNAL_URL": "http://[::1]:8080"}, "orgid <no-reply@localhost>"},
		{map[string]string{"ORGID_EXTERNAL_URL": "https://id.example.com", "ORGID_MAIL_FROM": "Acme ID <id@acme.test>"}, "Acme ID <id@acme.test>"},
	} {
		c, err := Defaults(env(tc.vars))
		if err != nil || c.MailFrom != tc.want {
			t.Errorf("%v: MailFrom %q, want %q (%v)", tc.vars, c.MailFrom, tc.want, err)
		}
	}
	if _, err := Defaults(env(map[string]string{"ORGID_MAIL_FROM": "not an address"})); err == nil || !strings.Contains(err.Error(), "ORGID_MAIL_FROM") {
		t.Errorf("a bad ORGID_MAIL_FROM: %v", err)
	}
}
