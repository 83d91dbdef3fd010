package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/storage"
)

// signedIn is a browser with a session at tenant default and a web client.
type signedIn struct {
	e        *env
	br       *e2etest.Browser
	rp       *e2etest.RP
	clientID string
	secret   string
	verifier string
}

func newSignedIn(t testing.TB, e *env) *signedIn {
	t.Helper()
	clientID, secret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
	s := &signedIn{e: e, br: e.browser(), rp: e.rp(storage.DefaultTenant, clientID, secret), clientID: clientID, secret: secret, verifier: oauth2.GenerateVerifier()}
	e2etest.RedirectParams(t, s.br.SignUp(s.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(s.verifier)), "grace@example.test", "a long enough password", "Grace"))
	return s
}

// code gets a fresh authorization code through the session.
func (s *signedIn) code(t testing.TB) string {
	t.Helper()
	q := e2etest.RedirectParams(t, must(s.br.Get(s.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(s.verifier)))))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return q.Get("code")
}

func (s *signedIn) token() string { return s.e.issuer(storage.DefaultTenant) + "/oauth/token" }

// exchange redeems a code at the token endpoint as the given client.
func (s *signedIn) exchange(code, clientID, secret, verifier string) (int, map[string]any, http.Header) {
	return s.e.postForm(s.token(), clientID, secret, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier},
	})
}

func wantError(t testing.TB, gotStatus int, body map[string]any, status int, code string) {
	t.Helper()
	if gotStatus != status || body["error"] != code {
		t.Fatalf("got %d %v, want %d error=%s", gotStatus, body, status, code)
	}
}

func TestRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		s := newSignedIn(t, e)
		authorize := e.issuer(storage.DefaultTenant) + "/authorize"

		t.Run("public client without code_challenge", func(t *testing.T) {
			spa, _ := e.app(storage.DefaultTenant, storage.AppSPA, callback)
			q := e2etest.RedirectParams(t, must(s.br.Get(authorize+"?"+url.Values{
				"client_id": {spa}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "state": {"x"},
			}.Encode())))
			if q.Get("error") != "invalid_request" || q.Get("state") != "x" || !strings.Contains(q.Get("error_description"), "code_challenge") {
				t.Fatalf("got %v", q)
			}
		})

		t.Run("plain PKCE", func(t *testing.T) {
			q := e2etest.RedirectParams(t, must(s.br.Get(authorize+"?"+url.Values{
				"client_id": {s.clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"},
				"code_challenge": {s.verifier}, "code_challenge_method": {"plain"},
			}.Encode())))
			if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "S256") {
				t.Fatalf("got %v", q)
			}
		})

		t.Run("token responses are not cached", func(t *testing.T) {
			status, body, h := s.exchange(s.code(t), s.clientID, s.secret, s.verifier)
			if status != http.StatusOK || h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
				t.Fatalf("got %d Cache-Control=%q Pragma=%q %v", status, h.Get("Cache-Control"), h.Get("Pragma"), body)
			}
			status, body, h = s.exchange(s.code(t), s.clientID, "wrong", s.verifier)
			if status != http.StatusUnauthorized || h.Get("Cache-Control") != "no-store" {
				t.Fatalf("error answer: %d Cache-Control=%q %v", status, h.Get("Cache-Control"), body)
			}
		})

		t.Run("wrong code_verifier", func(t *testing.T) {
			status, body, _ := s.exchange(s.code(t), s.clientID, s.secret, oauth2.GenerateVerifier())
			wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
		})

		t.Run("code redeemed twice revokes what it issued", func(t *testing.T) {
			code := s.code(t)
			status, first, _ := s.exchange(code, s.clientID, s.secret, s.verifier)
			if status != http.StatusOK {
				t.Fatalf("first redemption: %d %v", status, first)
			}
			status, body, _ := s.exchange(code, s.clientID, s.secret, s.verifier)
			wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
			_, intro, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/introspect", s.clientID, s.secret, url.Values{"token": {first["access_token"].(string)}})
			if intro["active"] != false {
				t.Errorf("first access token still active: %v", intro)
			}
			status, body, _ = e.postForm(s.token(), s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}})
			wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
		})

		t.Run("concurrent redemptions: exactly one wins", func(t *testing.T) {
			// Exactly one request gets past the atomic code check. The
			// others are replays, which revoke the grant: so the winner
			// either got tokens that are revoked now, or was refused
			// because the revocation came before its tokens were stored.
			code := s.code(t)
			type result struct {
				status int
				body   map[string]any
			}
			results := make(chan result, 8)
			for range 8 {
				go func() {
					status, body, _ := s.exchange(code, s.clientID, s.secret, s.verifier)
					results <- result{status, body}
				}()
			}
			winners, replays := 0, 0
			var tokens []string
			for range 8 {
				r := <-results
				switch desc, _ := r.body["error_description"].(string); {
				case r.status == http.StatusOK:
					winners++
					tokens = append(tokens, r.body["access_token"].(string))
				case r.status == http.StatusBadRequest && strings.Contains(desc, "replayed during the exchange"):
					winners++
				case r.status == http.StatusBadRequest && r.body["error"] == "invalid_grant" && strings.Contains(desc, "already used"):
					replays++
				default:
					t.Errorf("unexpected answer %d %v", r.status, r.body)
				}
			}
			if winners != 1 || replays != 7 {
				t.Fatalf("%d winners and %d replays, want 1 and 7", winners, replays)
			}
			for _, at := range tokens {
				_, intro, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/introspect", s.clientID, s.secret, url.Values{"token": {at}})
				if intro["active"] != false {
					t.Errorf("a token of a replayed code is still active: %v", intro)
				}
			}
		})

		t.Run("code of another client", func(t *testing.T) {
			other, otherSecret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
			status, body, _ := s.exchange(s.code(t), other, otherSecret, s.verifier)
			wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
		})

		t.Run("expired code", func(t *testing.T) {
			code := s.code(t)
			e.advance(e.srv.Config.CodeTTL + time.Second)
			status, body, _ := s.exchange(code, s.clientID, s.secret, s.verifier)
			wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
		})

		t.Run("unregistered redirect_uri is an error page, not a redirect", func(t *testing.T) {
			resp, body := s.br.Get(authorize + "?" + url.Values{
				"client_id": {s.clientID}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}, "scope": {"openid"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(s.verifier)}, "code_challenge_method": {"S256"},
			}.Encode())
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "invalid_request") {
				t.Fatalf("got %d Location=%q %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})

		t.Run("unknown client at authorize", func(t *testing.T) {
			resp, body := s.br.Get(authorize + "?" + url.Values{
				"client_id": {"nobody"}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"},
			}.Encode())
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "invalid_request") {
				t.Fatalf("got %d Location=%q %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})

		t.Run("unknown client at the token endpoint", func(t *testing.T) {
			status, body, h := s.exchange(s.code(t), "nobody", "whatever-secret", s.verifier)
			wantError(t, status, body, http.StatusUnauthorized, "invalid_client")
			if h.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})

		t.Run("wrong secret", func(t *testing.T) {
			status, body, h := s.exchange(s.code(t), s.clientID, "wrong-secret", s.verifier)
			wantError(t, status, body, http.StatusUnauthorized, "invalid_client")
			if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q", h.Get("WWW-Authenticate"))
			}
		})

		t.Run("refresh token reuse revokes the family", func(t *testing.T) {
			_, first, _ := s.exchange(s.code(t), s.clientID, s.secret, s.verifier)
			rt1 := first["refresh_token"].(string)
			status, second, _ := e.postForm(s.token(), s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
			if status != http.StatusOK {
				t.Fatalf("refresh: %d %v", status, second)
			}
			status, body, _ := e.postForm(s.token(), s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
			wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
			status, body, _ = e.postForm(s.token(), s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second["refresh_token"].(string)}})
			wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
		})

		t.Run("login POST without CSRF token", func(t *testing.T) {
			page, body := e.browser().Get(s.rp.Config.AuthCodeURL("c", oauth2.S256ChallengeOption(s.verifier)))
			action, values := e2etest.FindForm(t, body, "Sign in")
			values.Del("csrf_token")
			values.Set("email", "grace@example.test")
			values.Set("password", "a long enough password")
			target, _ := page.Request.URL.Parse(action)
			resp, err := http.PostForm(target.String(), values)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("got %d", resp.StatusCode)
			}
		})

		t.Run("unknown tenant", func(t *testing.T) {
			for _, path := range []string{"/.well-known/openid-configuration", "/jwks", "/authorize", "/oauth/token", "/login", "/userinfo"} {
				resp, err := http.Get(e.ts.URL + "/t/nope" + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
			}
		})

		t.Run("tenant A's access token at tenant B", func(t *testing.T) {
			_, tokens, _ := s.exchange(s.code(t), s.clientID, s.secret, s.verifier)
			at := tokens["access_token"].(string)
			e.tenant("other")
			otherID, otherSecret := e.app("other", storage.AppWeb, callback)
			req, _ := http.NewRequest(http.MethodGet, e.issuer("other")+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+at)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"invalid_token"`) {
				t.Fatalf("userinfo at B: %d %s", resp.StatusCode, body)
			}
			_, intro, _ := e.postForm(e.issuer("other")+"/oauth/introspect", otherID, otherSecret, url.Values{"token": {at}})
			if intro["active"] != false {
				t.Fatalf("introspection at B: %v", intro)
			}
			// And the same client ID of A is unknown at B.
			status, body2, _ := e.postForm(e.issuer("other")+"/oauth/token", s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens["refresh_token"].(string)}})
			wantError(t, status, body2, http.StatusUnauthorized, "invalid_client")
		})
	})
}

// failingStore is a real store whose token methods can be made to fail
// with an error full of internal detail, as a broken database would.
type failingStore struct {
	storage.Store
	err atomic.Pointer[error]
}

func (f *failingStore) fail(err error) { f.err.Store(&err) }

func (f *failingStore) failure() error {
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (f *failingStore) CreateRefreshToken(ctx context.Context, rt storage.RefreshToken) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.Store.CreateRefreshToken(ctx, rt)
}

func (f *failingStore) GetRefreshToken(ctx context.Context, tenantID, grantID string) (storage.RefreshToken, error) {
	if err := f.failure(); err != nil {
		return storage.RefreshToken{}, err
	}
	return f.Store.GetRefreshToken(ctx, tenantID, grantID)
}

func TestFailingStore(t *testing.T) {
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	real, eph, advance := embedded.open(t, clock)
	fs := &failingStore{Store: real}
	e := newEnvWith(t, clock, fs, eph, advance)
	s := newSignedIn(t, e)
	secret := "pq: connection to 10.1.2.3:5432 failed: SELECT token_hash FROM refresh_tokens"

	fs.fail(errors.New(secret))
	status, body, _ := s.exchange(s.code(t), s.clientID, s.secret, s.verifier)
	wantError(t, status, body, http.StatusInternalServerError, "server_error")
	status, body2, _ := e.postForm(s.token(), s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"somegrant.anything"}})
	wantError(t, status, body2, http.StatusInternalServerError, "server_error")
	for _, b := range []map[string]any{body, body2} {
		text := fmt.Sprint(b)
		for _, leak := range []string{"10.1.2.3", "SELECT", "pq:", "refresh_tokens"} {
			if strings.Contains(text, leak) {
				t.Errorf("response leaks %q: %s", leak, text)
			}
		}
	}
	if !strings.Contains(e.logs.String(), "10.1.2.3") {
		t.Error("the internal cause is not in the log for operators")
	}

	// An unreachable store is 503, not 500.
	fs.fail(fmt.Errorf("dial tcp 10.1.2.3:5432: %w", storage.ErrUnavailable))
	status, body, _ = e.postForm(s.token(), s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"somegrant.anything"}})
	wantError(t, status, body, http.StatusServiceUnavailable, "temporarily_unavailable")
	if strings.Contains(fmt.Sprint(body), "10.1.2.3") {
		t.Errorf("response leaks the address: %v", body)
	}
}
