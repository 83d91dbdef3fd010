package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Timeouts of one action. A broken page fails the test after these instead
// of hanging the suite.
const (
	actionTimeout = 15 * time.Second
	axeTimeout    = 60 * time.Second
	// navStartGrace is how long Click waits for a navigation that the
	// element should cause (a submit button, a link) to start. A page
	// script that cancels the navigation leaves the page where it is.
	navStartGrace = 5 * time.Second
)

// Viewport defaults: a laptop screen.
const (
	DefaultWidth  = 1280
	DefaultHeight = 900
)

// Page is one tab in its own browser context: its cookies and storage are
// its own, as in a second browser. Its methods fail the test (t.Fatalf,
// naming the page's URL) when the page does not let them do what they say.
// A Page reports to the test that made it, so it is used from that test's
// goroutine (not from its subtests); make one page per subtest.
type Page struct {
	t      testing.TB
	ctx    context.Context // the tab's chromedp context
	noJS   bool
	scope  string // CSS selector of the part of the page that In chose
	width  int
	height int
}

// Option changes a page made by [Browser.NewPage].
type Option func(*Page)

// WithoutJavaScript turns script execution off for the whole life of the
// page, as a browser with JavaScript disabled. Page methods still work:
// they act through the DevTools protocol, not through page scripts.
func WithoutJavaScript() Option { return func(p *Page) { p.noJS = true } }

// WithWidth sets the width of the layout viewport in CSS pixels (default
// 1280; the height stays 900). 360 is the narrowest phone the pages support.
func WithWidth(px int) Option { return func(p *Page) { p.width = px } }

// pageSeq numbers the pages of the test binary, so that two pages of one
// test get two screenshot files.
var pageSeq atomic.Int64

// NewPage opens a tab in a new, isolated browser context. It closes at
// t.Cleanup; if the test failed by then, a full-page screenshot of the tab
// goes to $ORGID_TEST_ARTIFACTS (default os.TempDir()/orgid-browser) and
// its path to the test log.
func (b *Browser) NewPage(t testing.TB, opts ...Option) *Page {
	t.Helper()
	p := &Page{t: t, width: DefaultWidth, height: DefaultHeight}
	for _, o := range opts {
		o(p)
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p.ctx = ctx
	t.Cleanup(cancel)
	seq := pageSeq.Add(1)
	t.Cleanup(func() {
		if t.Failed() {
			p.saveFailureScreenshot(seq)
		}
	})

	// The first Run on a context creates the tab and binds the tab's life to
	// the context it is given, so it gets p.ctx itself, bounded from
	// outside.
	created := make(chan error, 1)
	go func() { created <- chromedp.Do(ctx) }()
	select {
	case err := <-created:
		if err != nil {
			t.Fatalf("browsertest: opening a tab: %v", err)
		}
	case <-time.After(actionTimeout):
		t.Fatalf("browsertest: opening a tab: no answer in %s", actionTimeout)
	}
	err := p.do(actionTimeout,
		chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: int64(p.width), Height: int64(p.height), DeviceScaleFactor: 1,
			}); err != nil {
				return fmt.Errorf("setting the viewport: %w", err)
			}
			if p.noJS {
				if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					return fmt.Errorf("disabling JavaScript: %w", err)
				}
			}
			// Downloads (CSV statements, key files) are fetched by tests
			// over HTTP; the browser must not write them into the
			// working directory.
			_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior:         browser.SetDownloadBehaviorBehaviorDeny,
				BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
			})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("browsertest: opening a page: %v", err)
	}
	p.acceptDialogs()
	return p
}

// acceptDialogs answers alert and confirm dialogs with OK, as a person who
// means the click would; a dialog left open blocks the page.
func (p *Page) acceptDialogs() {
	dialogs := chromedp.Events(p.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			if p.ctx.Err() != nil {
				return // the test is over: it may no longer log
			}
			p.t.Logf("browsertest: accepting %s dialog %q", ev.Type, ev.Message)
			ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			cancel()
		}
	}()
}

// In returns a view of the page whose Fill, Select, Check, Click, Text,
// HasText and Axe look only inside the first element that selector (CSS)
// matches, e.g. p.In("#member-ada").Click("Remove") on a page with a
// Remove button per member. It shares the tab with p.
func (p *Page) In(selector string) *Page {
	q := *p
	q.scope = selector
	return &q
}

// do runs actions with a timeout.
func (p *Page) do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// run runs one action with a timeout and returns its value.
func run[T any](p *Page, timeout time.Duration, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// fatalf fails the test, naming the page.
func (p *Page) fatalf(format string, args ...any) {
	p.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if p.scope != "" {
		msg += fmt.Sprintf(" (inside %q)", p.scope)
	}
	p.t.Fatalf("browsertest: %s\n\tpage: %s", msg, p.currentURL())
}

// Go opens url and waits for the page to load. A page that answers with an
// error status still loads; check what it shows.
func (p *Page) Go(url string) {
	p.t.Helper()
	if err := p.do(actionTimeout, chromedp.Navigate(url)); err != nil {
		p.fatalf("opening %s: %v", url, err)
	}
}

// URL is the address of the page now shown.
func (p *Page) URL() string {
	p.t.Helper()
	u, err := p.url()
	if err != nil {
		p.t.Fatalf("browsertest: reading the URL: %v", err)
	}
	return u
}

// url asks the browser, not the page, so that it works without JavaScript.
func (p *Page) url() (string, error) {
	h, err := run(p, actionTimeout, func(ctx context.Context, _ *chromedp.Target) (page.GetNavigationHistoryResult, error) {
		return chromedp.Call(ctx, page.GetNavigationHistory, cdp.Empty{})
	})
	if err != nil {
		return "", err
	}
	if i := h.CurrentIndex; i >= 0 && int(i) < len(h.Entries) {
		return h.Entries[i].URL, nil
	}
	return "", errors.New("no navigation entry")
}

// currentURL is the URL for an error message; it never fails.
func (p *Page) currentURL() string {
	u, err := p.url()
	if err != nil {
		return fmt.Sprintf("(unknown: %v)", err)
	}
	return u
}

// Screenshot writes a full-page PNG to path, making its directory.
func (p *Page) Screenshot(path string) {
	p.t.Helper()
	if err := p.screenshot(path); err != nil {
		p.fatalf("screenshot %s: %v", path, err)
	}
}

func (p *Page) screenshot(path string) error {
	png, err := run(p, actionTimeout, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// ArtifactsDir is where failure screenshots go: $ORGID_TEST_ARTIFACTS, or
// os.TempDir()/orgid-browser.
func ArtifactsDir() string {
	if d := os.Getenv(EnvArtifacts); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "orgid-browser")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (p *Page) saveFailureScreenshot(seq int64) {
	name := fmt.Sprintf("%s-%d.png", unsafeName.ReplaceAllString(p.t.Name(), "_"), seq)
	path := filepath.Join(ArtifactsDir(), name)
	if err := p.screenshot(path); err != nil {
		p.t.Logf("browsertest: no failure screenshot of %s: %v", p.currentURL(), err)
		return
	}
	p.t.Logf("browsertest: screenshot of %s at failure: %s", p.currentURL(), path)
}

// WaitFor waits until the page shows an element that selector (CSS)
// matches, for pages whose scripts add content after the load.
func (p *Page) WaitFor(selector string) {
	p.t.Helper()
	if err := p.do(actionTimeout, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		p.fatalf("waiting for %q: %v", selector, err)
	}
}

// Width is the width of the layout viewport (window.innerWidth), read
// through the DevTools protocol so that it works without JavaScript.
func (p *Page) Width() int {
	p.t.Helper()
	m, err := run(p, actionTimeout, func(ctx context.Context, _ *chromedp.Target) (page.GetLayoutMetricsResult, error) {
		return chromedp.Call(ctx, page.GetLayoutMetrics, cdp.Empty{})
	})
	if err != nil {
		p.fatalf("reading the layout metrics: %v", err)
	}
	if m.CSSLayoutViewport == nil {
		p.fatalf("reading the layout metrics: no layout viewport")
	}
	return int(m.CSSLayoutViewport.ClientWidth)
}

// errText shortens an error of a page script for a message.
func errText(err error) string {
	var ee *chromedp.ExceptionError
	if errors.As(err, &ee) && ee.ExceptionDetails != nil {
		if ex := ee.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
			return strings.SplitN(ex.Description, "\n", 2)[0]
		}
		return ee.ExceptionDetails.Text
	}
	return err.Error()
}
