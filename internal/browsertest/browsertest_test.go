package browsertest

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// strictCSP is the policy orgid's pages are served with: no inline script,
// nothing from elsewhere.
const strictCSP = "default-src 'self'"

// site is a small loopback server of test pages, every one under strictCSP.
type site struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values // every POST /form, in order
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{}
	mux := http.NewServeMux()
	page := func(title, body string) string {
		return `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
			`<meta name="viewport" content="width=device-width, initial-scale=1">` +
			`<title>` + title + `</title></head><body><main><h1>` + title + `</h1>` + body + `</main></body></html>`
	}
	serve := func(path, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		})
	}
	serve("GET /form", page("Form", `
		<form method="post" action="/form">
		  <label for="name">Name</label> <input id="name" name="name" value="old">
		  <label>Description <textarea name="description"></textarea></label>
		  <label for="slug">Slug <small>lowercase letters and dashes</small></label> <input id="slug" name="slug">
		  <label for="role">Role</label>
		  <select id="role" name="role"><option value="member">Member</option><option value="admin">Administrator</option></select>
		  <input type="checkbox" id="mfa" name="mfa" value="on"> <label for="mfa">Require MFA</label>
		  <button type="button" id="noop">Preview</button>
		  <button name="action" value="cancel">Cancel</button>
		  <button name="action" value="save">Save</button>
		</form>
		<ul>
		  <li id="row-1">One <form method="post" action="/form"><input type="hidden" name="remove" value="1"><button>Remove</button></form></li>
		  <li id="row-2">Two <form method="post" action="/form"><input type="hidden" name="remove" value="2"><button>Remove</button></form></li>
		</ul>
		<p><a href="/done">Skip to the end</a></p>`))
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.mu.Unlock()
		http.Redirect(w, r, "/done", http.StatusSeeOther)
	})
	serve("GET /done", page("Done", `<p>Saved.</p>`))
	// /script has one external script (allowed by the CSP, run only with
	// JavaScript on) and one inline script (refused by the CSP always).
	serve("GET /script", page("Script", `<p id="ext">static</p><p id="inline">static</p><p id="width">none</p>`+
		`<script src="/script.js"></script><script>document.getElementById("inline").textContent = "inline ran";</script>`))
	mux.HandleFunc("GET /script.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.getElementById("ext").textContent = "scripted";
document.getElementById("width").textContent = String(window.innerWidth);`)
	})
	serve("GET /required", page("Required", `<form method="post" action="/form">`+
		`<label for="r">Code</label> <input id="r" name="code" required> <button>Send</button></form>`))
	serve("GET /confirm", page("Confirm", `<p id="answer">unasked</p><button type="button" id="ask">Ask</button>`+
		`<script src="/confirm.js"></script>`))
	mux.HandleFunc("GET /confirm.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.getElementById("ask").addEventListener("click", () => {
	document.getElementById("answer").textContent = confirm("Sure?") ? "confirmed" : "declined";
});`)
	})
	mux.HandleFunc("GET /cookie", func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("set"); v != "" {
			http.SetCookie(w, &http.Cookie{Name: "who", Value: v, Path: "/", HttpOnly: true})
			http.Redirect(w, r, "/cookie", http.StatusSeeOther)
			return
		}
		who := "nobody"
		if c, err := r.Cookie("who"); err == nil {
			who = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page("Cookie", `<p id="who">`+html.EscapeString(who)+`</p>`))
	})
	serve("GET /clean", page("Clean", `<p>Nothing wrong here.</p><form method="post" action="/form">`+
		`<label for="e">Email</label> <input id="e" name="email" type="email"> <button>Continue</button></form>`))
	// /dirty breaks two critical rules: an image without alt text and a
	// field without a label.
	serve("GET /dirty", page("Dirty", `<img src="/pixel.png"><form><input name="q"></form>`))
	mux.HandleFunc("GET /pixel.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(onePixelPNG)
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", strictCSP)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// lastForm is the last form the server received.
func (s *site) lastForm(t *testing.T) url.Values {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.forms) == 0 {
		t.Fatal("the server received no form")
	}
	return s.forms[len(s.forms)-1]
}

func (s *site) formCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.forms)
}

var onePixelPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

// jsModes runs f with JavaScript on and off.
func jsModes(t *testing.T, f func(t *testing.T, opts ...Option)) {
	t.Run("js", func(t *testing.T) { t.Parallel(); f(t) })
	t.Run("nojs", func(t *testing.T) { t.Parallel(); f(t, WithoutJavaScript()) })
}

func TestFormRoundTrip(t *testing.T) {
	t.Parallel()
	b := New(t)
	jsModes(t, func(t *testing.T, opts ...Option) {
		s := newSite(t) // its own: the subtests count forms in parallel
		p := b.NewPage(t, opts...)
		p.Go(s.URL + "/form")
		p.Fill("Name", "Ada Lovelace")
		p.Fill("Description", "line one\nline two")
		p.Fill("Slug", "analytical-engine") // the label also holds a hint
		p.Select("Role", "Administrator")   // by visible text
		p.Check("Require MFA", true)
		p.Click("Preview") // type=button: no navigation, returns at once
		if !strings.HasSuffix(p.URL(), "/form") {
			t.Fatalf("Preview navigated to %s", p.URL())
		}
		before := s.formCount()
		p.Click("Save")
		if s.formCount() != before+1 {
			t.Fatalf("the server got %d forms, want %d", s.formCount(), before+1)
		}
		got := s.lastForm(t)
		want := url.Values{
			"name": {"Ada Lovelace"}, "description": {"line one\r\nline two"}, "slug": {"analytical-engine"},
			"role": {"admin"}, "mfa": {"on"}, "action": {"save"},
		}
		for k, v := range want {
			if got.Get(k) != v[0] {
				t.Errorf("form field %s = %q, want %q (form %v)", k, got.Get(k), v[0], got)
			}
		}
		// Click waited for the redirect's page.
		if !strings.HasSuffix(p.URL(), "/done") || !p.HasText("Saved.") {
			t.Errorf("after Save: at %s, text Saved. shown: %v", p.URL(), p.HasText("Saved."))
		}

		// Select by value, uncheck, and the other submit button.
		p.Go(s.URL + "/form")
		p.Select("Role", "member")
		p.Check("Require MFA", true)
		p.Check("Require MFA", false)
		p.Click("Cancel")
		got = s.lastForm(t)
		if got.Get("role") != "member" || got.Has("mfa") || got.Get("action") != "cancel" || got.Get("name") != "old" {
			t.Errorf("second form = %v, want role=member, no mfa, action=cancel, name=old", got)
		}

		// In picks one of several buttons with the same text.
		p.Go(s.URL + "/form")
		p.In("#row-2").Click("Remove")
		if got := s.lastForm(t).Get("remove"); got != "2" {
			t.Errorf("In(#row-2).Click(Remove) sent remove=%q, want 2", got)
		}
		p.Go(s.URL + "/form")
		if p.In("#row-1").HasText("Two") || !p.In("#row-2").HasText("Two") {
			t.Error("In does not bound HasText to its element")
		}

		// A link navigates and Click waits for the page.
		p.Go(s.URL + "/form")
		p.Click("Skip to the end")
		if got := p.Text("h1"); got != "Done" {
			t.Errorf("after the link: h1 = %q, want Done", got)
		}
	})
}

func TestClickWithoutNavigation(t *testing.T) {
	t.Parallel()
	b := New(t)
	s := newSite(t)

	// A form that fails HTML validation is not sent, and Click does not
	// wait for a page that never comes.
	p := b.NewPage(t)
	p.Go(s.URL + "/required")
	before := s.formCount()
	start := time.Now()
	p.Click("Send")
	if d := time.Since(start); d > navStartGrace {
		t.Errorf("Click on an invalid form took %s", d)
	}
	if s.formCount() != before || !strings.HasSuffix(p.URL(), "/required") {
		t.Errorf("an invalid form was sent: %d forms, at %s", s.formCount(), p.URL())
	}
	p.Fill("Code", "123")
	p.Click("Send")
	if got := s.lastForm(t).Get("code"); got != "123" {
		t.Errorf("code = %q, want 123", got)
	}

	// A script's confirm dialog is accepted.
	p.Go(s.URL + "/confirm")
	p.Click("Ask")
	p.WaitFor("#answer")
	if got := p.Text("#answer"); got != "confirmed" {
		t.Errorf("after a confirm dialog: %q, want confirmed", got)
	}
}

func TestWithoutJavaScriptRunsNoScript(t *testing.T) {
	t.Parallel()
	b := New(t)
	s := newSite(t)

	on := b.NewPage(t)
	on.Go(s.URL + "/script")
	if got := on.Text("#ext"); got != "scripted" {
		t.Errorf("with JavaScript, the external script did not run: #ext = %q", got)
	}
	if got := on.Text("#inline"); got != "static" {
		t.Errorf("the CSP let an inline script run: #inline = %q", got)
	}

	off := b.NewPage(t, WithoutJavaScript())
	off.Go(s.URL + "/script")
	if got := off.Text("#ext"); got != "static" {
		t.Errorf("WithoutJavaScript ran the page's script: #ext = %q", got)
	}
	// Still so after Axe, which switches scripts on for its run.
	off.AxeViolations()
	if got := off.Text("#ext"); got != "static" {
		t.Errorf("Axe ran the page's script: #ext = %q", got)
	}
	off.Go(s.URL + "/script")
	if got := off.Text("#ext"); got != "static" {
		t.Errorf("after Axe, a WithoutJavaScript page ran the page's script: #ext = %q", got)
	}
}

func TestPagesDoNotShareCookies(t *testing.T) {
	t.Parallel()
	b := New(t)
	if v := b.Version(); !strings.Contains(v, "Chrome/") {
		t.Errorf("Version() = %q, want a Chrome product", v)
	}
	s := newSite(t)
	alice := b.NewPage(t)
	alice.Go(s.URL + "/cookie?set=alice")
	bob := b.NewPage(t)
	bob.Go(s.URL + "/cookie")
	if got := bob.Text("#who"); got != "nobody" {
		t.Errorf("a second page sees the first page's cookie: %q", got)
	}
	bob.Go(s.URL + "/cookie?set=bob")
	alice.Go(s.URL + "/cookie")
	if got := alice.Text("#who"); got != "alice" {
		t.Errorf("the first page's cookie = %q, want alice", got)
	}
}

func TestWithWidth(t *testing.T) {
	t.Parallel()
	b := New(t)
	s := newSite(t)
	def := b.NewPage(t)
	def.Go(s.URL + "/script")
	if got := def.Width(); got != DefaultWidth {
		t.Errorf("default width = %d, want %d", got, DefaultWidth)
	}
	narrow := b.NewPage(t, WithWidth(360))
	narrow.Go(s.URL + "/script")
	if got := narrow.Width(); got != 360 {
		t.Errorf("WithWidth(360): layout viewport %d px wide", got)
	}
	// The page's own script sees the same.
	if got := narrow.Text("#width"); got != "360" {
		t.Errorf("WithWidth(360): window.innerWidth = %s", got)
	}
	noJS := b.NewPage(t, WithWidth(360), WithoutJavaScript())
	noJS.Go(s.URL + "/script")
	if got := noJS.Width(); got != 360 {
		t.Errorf("WithWidth(360) without JavaScript: layout viewport %d px wide", got)
	}
}

func TestAxe(t *testing.T) {
	t.Parallel()
	b := New(t)
	s := newSite(t)
	jsModes(t, func(t *testing.T, opts ...Option) {
		clean := &fakeTB{TB: t}
		p := b.NewPage(clean, opts...)
		p.Go(s.URL + "/clean")
		p.Axe()
		if len(clean.errors) != 0 {
			t.Errorf("Axe on a clean page reported:\n%s", strings.Join(clean.errors, "\n"))
		}

		dirty := &fakeTB{TB: t}
		p = b.NewPage(dirty, opts...)
		p.Go(s.URL + "/dirty")
		p.Axe()
		all := strings.Join(dirty.errors, "\n")
		for _, want := range []string{"axe image-alt (critical)", "axe label (critical)", `<img src="/pixel.png">`, "page: " + s.URL + "/dirty"} {
			if !strings.Contains(all, want) {
				t.Errorf("Axe on a page with an image without alt and a field without label: no %q in\n%s", want, all)
			}
		}
		if len(dirty.errors) < 2 {
			t.Errorf("Axe reported %d errors, want one per violated rule (2)", len(dirty.errors))
		}

		// In bounds the check: the dirty parts are outside the h1.
		dirty.errors = nil
		p.In("h1").Axe()
		if len(dirty.errors) != 0 {
			t.Errorf("In(h1).Axe() reported:\n%s", strings.Join(dirty.errors, "\n"))
		}
	})
}

func TestScreenshot(t *testing.T) {
	t.Parallel()
	b := New(t)
	s := newSite(t)
	p := b.NewPage(t, WithWidth(360))
	p.Go(s.URL + "/form")
	path := filepath.Join(t.TempDir(), "shots", "form.png")
	p.Screenshot(path)
	img := decodePNG(t, path)
	if w := img.Bounds().Dx(); w != 360 {
		t.Errorf("screenshot %d px wide, want 360", w)
	}
	if h := img.Bounds().Dy(); h <= DefaultHeight {
		t.Logf("screenshot %d px high (the page fits the viewport)", h)
	}
}

func TestFailureScreenshot(t *testing.T) {
	b := New(t)
	s := newSite(t)
	dir := t.TempDir()
	t.Setenv(EnvArtifacts, dir)

	// A fake test that failed: its cleanups run the screenshot.
	failing := &fakeTB{TB: t, failed: true, name: "TestSomething/sub case"}
	p := b.NewPage(failing)
	p.Go(s.URL + "/done")
	failing.runCleanups()
	shots, _ := filepath.Glob(filepath.Join(dir, "TestSomething_sub_case-*.png"))
	if len(shots) != 1 {
		t.Fatalf("failure screenshots in %s: %v, want one", dir, shots)
	}
	decodePNG(t, shots[0])
	if !strings.Contains(strings.Join(failing.logs, "\n"), shots[0]) {
		t.Errorf("the log does not name the screenshot %s: %q", shots[0], failing.logs)
	}

	// A test that passed leaves none.
	passing := &fakeTB{TB: t, name: "TestPassing"}
	p = b.NewPage(passing)
	p.Go(s.URL + "/done")
	passing.runCleanups()
	if shots, _ := filepath.Glob(filepath.Join(dir, "TestPassing-*.png")); len(shots) != 0 {
		t.Errorf("a passing test left screenshots: %v", shots)
	}
}

func TestHelpfulFailures(t *testing.T) {
	t.Parallel()
	b := New(t)
	s := newSite(t)
	cases := []struct {
		name string
		do   func(p *Page)
		want []string
	}{
		{"no label", func(p *Page) { p.Fill("Nickname", "x") }, []string{`no label "Nickname"`, `"Name"`, `"Role"`, "/form"}},
		{"no button", func(p *Page) { p.Click("Delete everything") }, []string{`no button or link "Delete everything"`, `"Save"`}},
		{"not a text field", func(p *Page) { p.Fill("Role", "x") }, []string{"select", "not a text field"}},
		{"no option", func(p *Page) { p.Select("Role", "owner") }, []string{`no option "owner"`, "admin (Administrator)"}},
		{"not a checkbox", func(p *Page) { p.Check("Name", true) }, []string{"not a checkbox"}},
		{"no element", func(p *Page) { p.Text("#missing") }, []string{`Text("#missing"): no element matches`}},
		{"no scope", func(p *Page) { p.In("#nowhere").Click("Save") }, []string{`no element matches "#nowhere"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ft := &fakeTB{TB: t}
			p := b.NewPage(ft)
			p.Go(s.URL + "/form")
			ft.expectFatal(func() { c.do(p) })
			if len(ft.fatals) != 1 {
				t.Fatalf("got %d fatal errors, want 1: %q", len(ft.fatals), ft.fatals)
			}
			for _, w := range c.want {
				if !strings.Contains(ft.fatals[0], w) {
					t.Errorf("the failure %q does not say %q", ft.fatals[0], w)
				}
			}
		})
	}
}

// TestMissingChromium runs TestProbeNew in a child process with no
// Chromium: it must skip, and fail with ORGID_TEST_BROWSER=1.
func TestMissingChromium(t *testing.T) {
	if os.Getenv("BROWSERTEST_PROBE") == "1" {
		t.Skip("in the probe process")
	}
	for _, c := range []struct {
		require  string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP: TestProbeNew"},
		{"1", true, "--- FAIL: TestProbeNew"},
	} {
		env := []string{"BROWSERTEST_PROBE=1", EnvChromium + "=/nonexistent/chromium"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, EnvRequire+"=") && !strings.HasPrefix(kv, EnvChromium+"=") {
				env = append(env, kv)
			}
		}
		if c.require != "" {
			env = append(env, EnvRequire+"="+c.require)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestProbeNew$", "-test.v")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.wantFail {
			t.Errorf("%s=%q: the probe failed: %v, want %v; output:\n%s", EnvRequire, c.require, failed, c.wantFail, out)
		}
		for _, want := range []string{c.want, "/nonexistent/chromium"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("%s=%q: no %q in the output:\n%s", EnvRequire, c.require, want, out)
			}
		}
	}
}

// TestProbeNew is the child process of TestMissingChromium.
func TestProbeNew(t *testing.T) {
	if os.Getenv("BROWSERTEST_PROBE") != "1" {
		t.Skip("run by TestMissingChromium in a child process")
	}
	New(t)
	t.Error("New returned without a Chromium")
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is no PNG (%d bytes): %v", path, len(data), err)
	}
	if img.Bounds().Empty() {
		t.Fatalf("%s is an empty image", path)
	}
	return img
}

// fakeTB records what the helpers report, so that tests can prove they
// report a failure without failing. Cleanup, Logf and the rest go to the
// real test, unless runCleanups is used.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	fatals   []string
	logs     []string
	failed   bool
	name     string
	cleanups []func()
	// expecting: a Fatalf is expected (expectFatal runs), so it is only
	// recorded; otherwise it also fails the real test.
	expecting bool
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }

// Fatalf records and ends the goroutine, as testing does; expectFatal runs
// the code that should call it in a goroutine of its own.
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	expecting := f.expecting
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	if !expecting {
		f.TB.Fatalf(format, args...)
	}
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	f.TB.Logf(format, args...)
}

func (f *fakeTB) Failed() bool { return f.failed }

func (f *fakeTB) Name() string {
	if f.name != "" {
		return f.name
	}
	return f.TB.Name()
}

// Cleanup is held for runCleanups when the fake has a name of its own
// (it stands for another test), else passed to the real test.
func (f *fakeTB) Cleanup(fn func()) {
	if f.name == "" {
		f.TB.Cleanup(fn)
		return
	}
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

func (f *fakeTB) expectFatal(fn func()) {
	f.mu.Lock()
	f.expecting = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.expecting = false
		f.mu.Unlock()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}
