package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables that steer the browser tests.
const (
	// EnvChromium names the Chromium binary; unset, /usr/bin/chromium and
	// then chromium on PATH are tried.
	EnvChromium = "ORGID_CHROMIUM"
	// EnvRequire set to 1 turns a missing Chromium from a skip into a
	// failure, so that CI cannot pass without having run the browser tests.
	EnvRequire = "ORGID_TEST_BROWSER"
	// EnvArtifacts is the directory for screenshots of failed tests
	// (default: os.TempDir()/orgid-browser).
	EnvArtifacts = "ORGID_TEST_ARTIFACTS"
)

// startTimeout bounds the start of Chromium: a browser that does not answer
// by then is broken, and waiting longer only hides it.
const startTimeout = time.Minute

// Browser is a headless Chromium shared by every test of a test binary. Its
// pages ([Browser.NewPage]) are isolated from each other.
type Browser struct {
	ctx     context.Context // the chromedp context of the browser itself
	version string
}

// Version is the product and version Chromium reports in its user agent,
// e.g. "HeadlessChrome/156.0.8078.79", for test logs.
func (b *Browser) Version() string { return b.version }

// shared is the one browser of the test binary. It starts at the first New
// and ends with Close (or Main).
var shared struct {
	mu      sync.Mutex
	browser *Browser
	err     error  // the start failed: every later New reports it too
	missing string // no Chromium found: why, for the skip message
	cancel  []context.CancelFunc
	output  *lockedBuffer
}

// New returns the test binary's shared headless Chromium, starting it on
// the first call. When no Chromium binary is found it skips the test with
// a message, or fails it when ORGID_TEST_BROWSER=1. A Chromium that is
// found but does not start fails the test.
//
// The binary is $ORGID_CHROMIUM, else /usr/bin/chromium, else chromium on
// PATH. The test package must close the browser at the end with [Main] (or
// [Close] from its own TestMain): otherwise Chromium is still killed when
// the test binary exits, but its temporary profile directory is left
// behind.
func New(t testing.TB) *Browser {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.browser == nil && shared.err == nil && shared.missing == "" {
		start()
	}
	switch {
	case shared.missing != "":
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("browsertest: %s, and %s=1 requires the browser tests to run", shared.missing, EnvRequire)
		}
		t.Skipf("browsertest: %s; install Debian's chromium (apt-get install chromium) or set %s to run the browser tests", shared.missing, EnvChromium)
	case shared.err != nil:
		t.Fatalf("browsertest: %v", shared.err)
	}
	return shared.browser
}

// Main runs the tests of a package that uses New, closes the shared browser
// and exits. Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Close()
	os.Exit(code)
}

// Close stops the shared browser, if it runs, and removes its profile
// directory. A package with its own TestMain calls it after m.Run.
func Close() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for i := len(shared.cancel) - 1; i >= 0; i-- {
		shared.cancel[i]()
	}
	shared.cancel = nil
	shared.browser = nil
	shared.err = nil
	shared.missing = ""
}

// findChromium returns the path of the Chromium binary, or why there is
// none.
func findChromium() (path, missing string) {
	if p := os.Getenv(EnvChromium); p != "" {
		if err := isExecutable(p); err != nil {
			return "", fmt.Sprintf("%s=%s: %v", EnvChromium, p, err)
		}
		return p, ""
	}
	const debian = "/usr/bin/chromium"
	if isExecutable(debian) == nil {
		return debian, ""
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, ""
	}
	return "", "no Chromium found (not at /usr/bin/chromium, not on PATH)"
}

func isExecutable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory")
	case fi.Mode()&0o111 == 0:
		return errors.New("not executable")
	}
	return nil
}

// start launches Chromium and fills shared. It holds shared.mu.
func start() {
	path, missing := findChromium()
	if missing != "" {
		shared.missing = missing
		return
	}
	shared.output = &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// The flags this machine needs (see the machine notes): without the
		// background-networking ones Chromium keeps dialing Google's hosts
		// through a closed network. chromedp adds --no-sandbox as root and
		// a fresh temporary --user-data-dir, which it removes at the end.
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(shared.output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	shared.cancel = []context.CancelFunc{cancelAlloc, cancelBrowser}

	// The first Run binds the browser's life to its context, so it gets ctx
	// itself; the start is bounded from outside instead.
	type result struct {
		version string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string]("navigator.userAgent"))
		done <- result{v, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(startTimeout):
		r.err = fmt.Errorf("no answer in %s", startTimeout)
	}
	if r.err != nil {
		cancelBrowser()
		cancelAlloc()
		shared.cancel = nil
		shared.err = fmt.Errorf("starting %s: %v; its output:\n%s", path, r.err, shared.output.tail(4000))
		return
	}
	shared.browser = &Browser{ctx: ctx, version: productOf(r.version)}
}

// productOf picks "HeadlessChrome/156.0…" out of a user agent.
func productOf(ua string) string {
	for f := range strings.FieldsSeq(ua) {
		if strings.Contains(f, "Chrome/") {
			return f
		}
	}
	return ua
}

// lockedBuffer collects Chromium's output for the error message of a start
// that failed; it keeps only the last 64 KiB.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		rest := b.buf.Bytes()[b.buf.Len()-32<<10:]
		b.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}
