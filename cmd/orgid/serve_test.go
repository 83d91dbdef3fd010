package main_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// TestServeFreshEmbedded: with nothing but a data dir, orgid serves tenant
// default on the embedded store and generates (once) a master key that
// only its owner can read (DESIGN §6, §7).
func TestServeFreshEmbedded(t *testing.T) {
	dir := t.TempDir()
	env := environ{"ORGID_DATA_DIR": dir}
	s := serve(t, env, "")

	doc := discovery(t, s.issuer())
	if doc["issuer"] != "http://"+s.addr+"/t/default" {
		t.Errorf("issuer = %v, want http://%s/t/default", doc["issuer"], s.addr)
	}
	if uri, _ := doc["jwks_uri"].(string); !strings.HasPrefix(uri, s.issuer()+"/") {
		t.Errorf("jwks_uri = %v, want one under the issuer", doc["jwks_uri"])
	}
	jwksKids(t, s.issuer()) // answers with public keys
	if status, body := get(t, hc, s.url+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz = %d %s", status, body)
	}

	if log := s.stderr.String(); !strings.Contains(log, "generated a new master key") || !strings.Contains(log, filepath.Join(dir, "master.key")) {
		t.Errorf("the log does not say that a master key was generated, and where:\n%s", log)
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("master.key mode = %v, want 0600", perm)
	}
	if fi, err := os.Stat(filepath.Join(dir, "orgid.db")); err != nil {
		t.Errorf("no embedded store: %v", err)
	} else if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("orgid.db mode = %v, want 0600", perm)
	}
	key, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	s.stop()

	// A second start keeps the key it generated the first time, and logs
	// JSON when told to.
	s = serve(t, env.with("ORGID_LOG_FORMAT", "json"), s.addr)
	if log := s.stderr.String(); strings.Contains(log, "generated a new master key") {
		t.Errorf("a second start generated another master key:\n%s", log)
	}
	if again, err := os.ReadFile(filepath.Join(dir, "master.key")); err != nil || string(again) != string(key) {
		t.Errorf("master.key changed on the second start (%v)", err)
	}
	if doc := discovery(t, s.issuer()); doc["issuer"] != "http://"+s.addr+"/t/default" {
		t.Errorf("issuer after restart = %v", doc["issuer"])
	}
	s.stop()
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level == "" || rec.Msg == "" {
			t.Errorf("with ORGID_LOG_FORMAT=json, a log line is not a JSON record: %q", line)
		}
	}
}

// TestServeDefaultIssuer: without ORGID_EXTERNAL_URL the issuer derives
// from the listen address. Listening on every interface (":8080",
// "0.0.0.0:8080", as in containers) must not publish an issuer that no
// client can reach: orgid either picks a reachable host or refuses to
// start and says to set ORGID_EXTERNAL_URL.
func TestServeDefaultIssuer(t *testing.T) {
	for _, host := range []string{"", "0.0.0.0"} {
		t.Run("addr "+host+":PORT", func(t *testing.T) {
			_, port, _ := net.SplitHostPort(e2etest.FreeAddr(t))
			p := start(t, environ{"ORGID_DATA_DIR": t.TempDir()}, "serve", "--addr", host+":"+port)
			s := &server{proc: p, addr: "127.0.0.1:" + port, url: "http://127.0.0.1:" + port}
			if err := s.ready(); err != nil {
				if s.exited() && s.wait(exitTimeout) != 0 && strings.Contains(s.stderr.String(), "ORGID_EXTERNAL_URL") {
					return // refused, and said what to set
				}
				t.Fatalf("%v\nstderr:\n%s", err, s.stderr)
			}
			iss, _ := discovery(t, s.issuer())["issuer"].(string)
			u, err := url.Parse(iss)
			if err != nil {
				t.Fatalf("issuer %q: %v", iss, err)
			}
			if h := u.Hostname(); h == "" || (net.ParseIP(h) != nil && net.ParseIP(h).IsUnspecified()) {
				t.Errorf("orgid serve --addr %s:%s publishes the issuer %q, which no client can reach; "+
					"default to a loopback host or refuse to start without ORGID_EXTERNAL_URL", host, port, iss)
			}
			s.stop()
		})
	}
}

// TestServeAddressInUse: a taken address fails at once and says so.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := run(t, environ{"ORGID_DATA_DIR": t.TempDir()}, "serve", "--addr", ln.Addr().String())
	if r.code != 1 || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("serve on a taken address: %s", r)
	}
}

// TestHelpVersionUsage: `serve --help` lists every setting and echoes no
// secret taken from the environment; version and unknown commands.
func TestHelpVersionUsage(t *testing.T) {
	secrets := map[string]string{
		"ORGID_MASTER_KEY":              newMasterKey(),
		"ORGID_BOOTSTRAP_CLIENT_SECRET": "bootstrap-secret-0123456789abcdefghijklmnop",
		"ORGID_SMTP_URL":                "smtp://mailer:smtp-pa55word@127.0.0.1:2525",
		"ORGID_DATABASE_URL":            "postgres://orgid:db-pa55word@127.0.0.1:1/orgid",
		"ORGID_REDIS_URL":               "redis://:redis-pa55word@127.0.0.1:1/0",
	}
	env := environ{"ORGID_DATA_DIR": t.TempDir(), "ORGID_BOOTSTRAP_CLIENT_ID": "bootstrap"}
	for k, v := range secrets {
		env[k] = v
	}
	r := run(t, env, "serve", "--help")
	help := r.stdout
	if r.code != 0 {
		t.Errorf("serve --help exited %d, want 0 with the help on stdout", r.code)
	}
	for _, want := range []string{
		"--addr", "ORGID_ADDR", "ORGID_EXTERNAL_URL", "ORGID_DATA_DIR", "ORGID_DATABASE_URL",
		"ORGID_REDIS_URL", "ORGID_MASTER_KEY", "ORGID_BOOTSTRAP_CLIENT_ID", "ORGID_BOOTSTRAP_CLIENT_SECRET",
		"ORGID_SMTP_URL", "ORGID_LOG_LEVEL", "ORGID_LOG_FORMAT",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help does not mention %s", want)
		}
	}
	for name, secret := range secrets {
		for _, part := range []string{secret, "pa55word"} {
			if strings.Contains(help, part) {
				t.Errorf("serve --help echoes (part of) %s", name)
			}
		}
	}
	if t.Failed() {
		t.Logf("serve --help: %s", r)
	}

	r = run(t, environ{}, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "orgid ") {
		t.Errorf("version: %s", r)
	}
	r = run(t, environ{}, "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %s", r)
	}
	r = run(t, environ{})
	if r.code != 2 || !strings.Contains(r.stderr, "orgid serve") {
		t.Errorf("no command: %s", r)
	}
	r = run(t, environ{"ORGID_DATA_DIR": t.TempDir()}, "serve", "--no-such-flag")
	if r.code != 2 || !strings.Contains(r.stderr, "no-such-flag") {
		t.Errorf("unknown flag: %s", r)
	}
}

// TestGracefulShutdown: on SIGTERM, orgid stops accepting connections,
// lets a request that is still arriving finish with a complete answer, and
// exits 0.
func TestGracefulShutdown(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testGracefulShutdown(t, b.env(t)) })
	}
}

func testGracefulShutdown(t *testing.T, env environ) {
	s := serve(t, env, "")

	// A token request whose body trickles in. With "Expect: 100-continue"
	// the transport holds the body back until orgid's handler starts
	// reading it, so the first write below returns only once the request
	// is in orgid's hands.
	body := "grant_type=authorization_code&code=not-a-real-code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&client_id=nobody"
	first, rest := body[:20], body[20:]
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest(http.MethodPost, s.issuer()+"/oauth/token", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Expect", "100-continue")
	tr := &http.Transport{ExpectContinueTimeout: readyTimeout, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{resp: resp, body: b, err: err}
	}()
	wrote := make(chan error, 1)
	go func() { _, err := io.WriteString(pw, first); wrote <- err }()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("writing the first part of the body: %v", err)
		}
	case a := <-answers:
		t.Fatalf("orgid answered before reading the body: %+v", a)
	case <-time.After(readyTimeout):
		t.Fatal("orgid never started reading the request body")
	}

	s.signal(syscall.SIGTERM)
	// Wait (bounded) until orgid has closed its listener: from then on the
	// request above is in flight during the shutdown.
	deadline := time.Now().Add(exitTimeout)
	for !refused(s.addr) {
		if time.Now().After(deadline) {
			t.Fatalf("orgid still accepts connections %v after SIGTERM\nstderr:\n%s", exitTimeout, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.exited() {
		t.Fatalf("orgid exited with a request in flight\nstderr:\n%s", s.stderr)
	}

	if _, err := io.WriteString(pw, rest); err != nil {
		t.Fatalf("finishing the body: %v", err)
	}
	pw.Close()
	var a answer
	select {
	case a = <-answers:
	case <-time.After(exitTimeout):
		t.Fatal("no answer to the in-flight request")
	}
	if a.err != nil {
		t.Fatalf("the in-flight request failed: %v\nstderr:\n%s", a.err, s.stderr)
	}
	var oauthErr struct {
		Error string `json:"error"`
	}
	if a.resp.StatusCode < 400 || a.resp.StatusCode >= 500 || json.Unmarshal(a.body, &oauthErr) != nil || oauthErr.Error == "" {
		t.Errorf("in-flight request answered %d %q, want orgid's OAuth error", a.resp.StatusCode, a.body)
	}

	if code := s.wait(exitTimeout); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0\nstderr:\n%s", code, s.stderr)
	}
	if !refused(s.addr) {
		t.Error("something accepts connections on orgid's port after it exited")
	}
	if log := s.stderr.String(); !strings.Contains(log, "shutting down") || !strings.Contains(log, "stopped") {
		t.Errorf("the log does not tell the shutdown:\n%s", log)
	}
}

// TestServeRefusesToStart: configurations orgid must not run with make it
// exit non-zero at once, say why plainly, and never listen.
func TestServeRefusesToStart(t *testing.T) {
	keyA, keyB := newMasterKey(), newMasterKey()

	// refuse starts serve and requires that it exits non-zero without
	// ever accepting a connection; it returns stderr.
	refuse := func(t *testing.T, env environ) string {
		t.Helper()
		addr := e2etest.FreeAddr(t)
		p := start(t, env, "serve", "--addr", addr)
		deadline := time.Now().Add(exitTimeout)
		for !p.exited() {
			if !refused(addr) {
				t.Errorf("orgid listens on %s although it must refuse to start", addr)
				break
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if code := p.wait(exitTimeout); code <= 0 {
			t.Errorf("exit code = %d, want non-zero\nstderr:\n%s", code, p.stderr)
		}
		if strings.Contains(p.stderr.String(), "orgid serving") {
			t.Errorf("orgid said it was serving:\n%s", p.stderr)
		}
		return p.stderr.String()
	}

	t.Run("an access token algorithm orgid does not sign with", func(t *testing.T) {
		msg := refuse(t, environ{"ORGID_DATA_DIR": t.TempDir(), "ORGID_ACCESS_TOKEN_ALG": "HS256"})
		if !strings.Contains(msg, "ORGID_ACCESS_TOKEN_ALG") {
			t.Errorf("stderr does not name ORGID_ACCESS_TOKEN_ALG:\n%s", msg)
		}
	})

	t.Run("another master key than the first start's", func(t *testing.T) {
		dir := t.TempDir()
		serve(t, environ{"ORGID_DATA_DIR": dir, "ORGID_MASTER_KEY": keyA}, "").stop()
		msg := refuse(t, environ{"ORGID_DATA_DIR": dir, "ORGID_MASTER_KEY": keyB})
		if !strings.Contains(msg, "master key") {
			t.Errorf("stderr does not name the master key:\n%s", msg)
		}
		if strings.Contains(msg, keyA) || strings.Contains(msg, keyB) {
			t.Errorf("stderr echoes a master key:\n%s", msg)
		}
		// The right key still works: nothing was damaged.
		serve(t, environ{"ORGID_DATA_DIR": dir, "ORGID_MASTER_KEY": keyA}, "").stop()
	})

	t.Run("a master key instead of the generated one", func(t *testing.T) {
		dir := t.TempDir()
		serve(t, environ{"ORGID_DATA_DIR": dir}, "").stop()
		msg := refuse(t, environ{"ORGID_DATA_DIR": dir, "ORGID_MASTER_KEY": keyB})
		if !strings.Contains(msg, "master key") || !strings.Contains(msg, filepath.Join(dir, "master.key")) {
			t.Errorf("stderr does not name the master key and the generated key's file:\n%s", msg)
		}
	})

	t.Run("a malformed master key", func(t *testing.T) {
		bad := "not-a-key-but-a-Secret-passphrase"
		msg := refuse(t, environ{"ORGID_DATA_DIR": t.TempDir(), "ORGID_MASTER_KEY": bad})
		if !strings.Contains(msg, "ORGID_MASTER_KEY") {
			t.Errorf("stderr does not name ORGID_MASTER_KEY:\n%s", msg)
		}
		if strings.Contains(msg, bad) {
			t.Errorf("stderr echoes the malformed (secret) master key:\n%s", msg)
		}
	})

	t.Run("PostgreSQL without a master key", func(t *testing.T) {
		dsn := sqltest.PostgresURL(t)
		dir := t.TempDir()
		msg := refuse(t, environ{"ORGID_DATA_DIR": dir, "ORGID_DATABASE_URL": dsn})
		if !strings.Contains(msg, "ORGID_MASTER_KEY is required") {
			t.Errorf("stderr does not say that ORGID_MASTER_KEY is required:\n%s", msg)
		}
		if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
			t.Error("a master key was generated although PostgreSQL needs a shared one")
		}
	})
}

// TestServeLogFormat: with no setting, orgid run by anything but a person
// at a terminal (here a pipe, as under Docker, Kubernetes or systemd) logs
// one JSON object a line, zitadel/oidc's lines included; text when told
// to; and a format it does not know stops it with a clear message.
func TestServeLogFormat(t *testing.T) {
	env := environ{"ORGID_DATA_DIR": t.TempDir(), "ORGID_MASTER_KEY": newMasterKey()}

	s := serve(t, env, "")
	s.stop()
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	msgs := map[string]bool{}
	for _, line := range lines {
		var rec struct{ Time, Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level == "" || rec.Msg == "" {
			t.Errorf("default format: a log line is not a JSON record: %q", line)
		}
		msgs[rec.Msg] = true
	}
	// "registered route" is zitadel/oidc's, through slog.Default.
	for _, want := range []string{"orgid serving", "registered route", "stopped"} {
		if !msgs[want] {
			t.Errorf("default format: no JSON line %q in:\n%s", want, s.stderr)
		}
	}

	s = serve(t, env.with("ORGID_LOG_FORMAT", "text"), "")
	s.stop()
	out := s.stderr.String()
	if !strings.Contains(out, `level=INFO msg="orgid serving"`) || !strings.Contains(out, `msg="registered route"`) || strings.Contains(out, `{"time"`) {
		t.Errorf("ORGID_LOG_FORMAT=text: want key=value lines, orgid's and zitadel/oidc's:\n%s", out)
	}

	r := run(t, env.with("ORGID_LOG_FORMAT", "xml"), "serve", "--addr", e2etest.FreeAddr(t))
	if r.code != 1 || !strings.Contains(r.stderr, `ORGID_LOG_FORMAT "xml" must be auto, text or json`) {
		t.Errorf("ORGID_LOG_FORMAT=xml: %s", r)
	}
}
