// Package browsertest drives orgid's pages in a real headless Chromium
// (Debian's /usr/bin/chromium, never a downloaded browser) through
// github.com/chromedp/chromedp, the way a person would: by visible labels
// and button texts, with one isolated browser context per [Page], and an
// axe-core accessibility check that runs on any page, even under a strict
// CSP or with JavaScript turned off.
//
// A test package starts the shared browser lazily and closes it at the end:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
//	func TestSignUp(t *testing.T) {
//		p := browsertest.New(t).NewPage(t)
//		p.Go(srv.URL + "/t/acme/signup")
//		p.Fill("Email", "ada@example.com")
//		p.Click("Create account")
//		p.Axe()
//	}
//
// Without a Chromium, [New] skips the test, unless ORGID_TEST_BROWSER=1
// (set by .ci/run), when it fails. ORGID_CHROMIUM names the binary;
// ORGID_TEST_ARTIFACTS the directory for the screenshots of failed tests.
package browsertest
