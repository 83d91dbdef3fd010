package e2etest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Record returns a transport that registers in Secrets every secret that
// crosses it (nil base: http.DefaultTransport): passwords and client
// secrets sent to orgid, and the codes, tokens, client secrets, private
// keys, TOTP secrets and recovery codes it answers with. Test clients
// send everything through it, so the leak check knows every secret a
// test saw without each test registering its own.
func Record(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := base.(*recorder); ok {
		return base
	}
	return &recorder{base: base}
}

type recorder struct{ base http.RoundTripper }

// formSecrets are the request form fields that hold secrets, by kind.
// Not "token": on orgid's pages it is an invitation or reset link token,
// which the log mail transport prints on purpose (see docs/operations.md),
// and at /revoke and /introspect it is a token registered when issued.
var formSecrets = map[string]string{
	"password":         "password",
	"new_password":     "password",
	"client_secret":    "client secret",
	"refresh_token":    "refresh token",
	"subject_token":    "access token",
	"actor_token":      "access token",
	"code_verifier":    "PKCE code verifier",
	"client_assertion": "client assertion",
}

// jsonSecrets are the JSON fields (requests and answers) that hold
// secrets, by kind.
var jsonSecrets = map[string]string{
	"password":       "password",
	"client_secret":  "client secret",
	"access_token":   "access token",
	"refresh_token":  "refresh token",
	"recovery_codes": "recovery code",
	"totp_secret":    "TOTP secret",
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	recordRequest(req)
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	recordResponse(req, resp)
	return resp, nil
}

func recordRequest(req *http.Request) {
	if _, pw, ok := req.BasicAuth(); ok {
		if s, err := url.QueryUnescape(pw); err == nil {
			pw = s // RFC 6749 §2.3.1: the secret is form-encoded first
		}
		Secrets.Add("client secret", pw)
	}
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		Secrets.Add("access token", tok)
	}
	if req.Body == nil || req.Body == http.NoBody {
		return
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	ct := req.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, _ := url.ParseQuery(string(body))
		for field, vs := range form {
			kind := formSecrets[field]
			if field == "code" {
				kind = "one-time code" // a recovery code typed on a page
				if strings.HasSuffix(req.URL.Path, "/token") {
					kind = "authorization code"
				}
			}
			if kind == "" {
				continue
			}
			for _, v := range vs {
				Secrets.Add(kind, v)
			}
		}
	case strings.Contains(ct, "json"):
		recordJSON(body)
	}
}

func recordResponse(req *http.Request, resp *http.Response) {
	if loc, err := resp.Location(); err == nil {
		if code := loc.Query().Get("code"); code != "" {
			Secrets.Add("authorization code", code)
		}
		if frag, err := url.ParseQuery(loc.Fragment); err == nil { // response_mode=fragment
			Secrets.Add("authorization code", frag.Get("code"))
			Secrets.Add("access token", frag.Get("access_token"))
		}
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.Contains(ct, "json") && !strings.HasPrefix(ct, "text/html") {
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	if strings.Contains(ct, "json") {
		recordJSON(body)
		return
	}
	// The enrolment page shows the TOTP secret, and the page after it
	// the recovery codes, once.
	if bytes.Contains(body, []byte(`id="totp-secret"`)) {
		if n := byID(quiet{}, string(body), "totp-secret"); n != nil {
			s := strings.TrimSpace(text(n))
			Secrets.Add("TOTP secret", s)
			Secrets.Add("TOTP secret", strings.ReplaceAll(s, " ", ""))
		}
	}
	if bytes.Contains(body, []byte(`id="recovery-codes"`)) {
		if n := byID(quiet{}, string(body), "recovery-codes"); n != nil {
			walk(n, func(c *html.Node) {
				if c.Data == "li" {
					addRecoveryCode(strings.TrimSpace(text(c)))
				}
			})
		}
	}
}

// addRecoveryCode registers a recovery code as shown and as typed
// without its hyphen (orgid accepts both).
func addRecoveryCode(c string) {
	Secrets.Add("recovery code", c)
	Secrets.Add("recovery code", strings.ReplaceAll(c, "-", ""))
}

// recordJSON registers the secrets of a JSON body, at any depth.
func recordJSON(body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(k, c)
			}
		case []any:
			for _, c := range x {
				walk(key, c)
			}
		case string:
			switch {
			case key == "private_key_pem" || strings.Contains(x, PEMMarker):
				Secrets.AddPEM("private key", x)
			case key == "recovery_codes":
				addRecoveryCode(x)
			case jsonSecrets[key] != "":
				Secrets.Add(jsonSecrets[key], x)
			}
		}
	}
	walk("", v)
}

// quiet is a T for parsing pages inside a transport, where there is no
// test to fail: a page that does not parse simply registers nothing.
type quiet struct{}

func (quiet) Helper()               {}
func (quiet) Fatal(...any)          {}
func (quiet) Fatalf(string, ...any) {}
