package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored from the npm registry (see
// testdata/axe-core/README.md). It is injected through the DevTools
// protocol, which the page's CSP (default-src 'self', no inline script)
// does not govern.
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// Violation is one axe-core rule that the page breaks, with the elements
// that break it.
type Violation struct {
	Rule    string // axe rule id, e.g. "image-alt"
	Impact  string // "minor", "moderate", "serious" or "critical"
	Help    string // what the rule asks, in a sentence
	HelpURL string
	Nodes   []ViolationNode
}

// ViolationNode is one element that breaks a rule.
type ViolationNode struct {
	Target  string // CSS selector of the element
	HTML    string // the start of its markup
	Summary string // how to fix it, from axe
}

// String is the violation as one line per node, for test logs.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "axe %s (%s): %s [%s]", v.Rule, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n\t%s: %s", n.Target, n.HTML)
		if n.Summary != "" {
			fmt.Fprintf(&b, "\n\t\t%s", strings.ReplaceAll(n.Summary, "\n", "\n\t\t"))
		}
	}
	return b.String()
}

// Axe runs axe-core on the current page (or the part that In chose) and
// reports every serious or critical violation with t.Error, naming the
// rule, impact, help and the elements; minor and moderate ones are not
// reported. It works with WithoutJavaScript too (see AxeViolations).
func (p *Page) Axe() {
	p.t.Helper()
	vs := p.AxeViolations()
	if len(vs) == 0 {
		return
	}
	u := p.currentURL()
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			p.t.Errorf("%s\n\tpage: %s", v, u)
		}
	}
}

// axeRun runs axe on the page and returns the violations of every impact.
const axeRun = `(async (scope) => {
	const root = scope ? document.querySelector(scope) : document;
	if (!root) throw new Error("no element matches " + JSON.stringify(scope));
	const r = await axe.run(root, {resultTypes: ["violations"]});
	return r.violations.map((v) => ({
		Rule: v.id, Impact: v.impact || "", Help: v.help, HelpURL: v.helpUrl,
		Nodes: v.nodes.map((n) => ({Target: n.target.join(" "), HTML: n.html, Summary: n.failureSummary || ""})),
	}));
})(%s)`

// AxeViolations runs axe-core on the current page and returns every
// violation, of any impact. axe goes in through Runtime.evaluate, which the
// page's CSP does not govern. On a page WithoutJavaScript, script execution
// is switched on for the duration of the run (axe needs timers) and off
// again; the page's own scripts, skipped when it loaded, stay unrun.
func (p *Page) AxeViolations() []Violation {
	p.t.Helper()
	loaded, err := run(p, actionTimeout, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
	if err != nil {
		p.fatalf("axe: %v", errText(err))
	}
	if !loaded {
		if err := p.do(axeTimeout, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			p.fatalf("axe: injecting axe-core: %v", errText(err))
		}
	}
	if p.noJS {
		// axe waits on timers, which do not fire while scripts are off, so
		// it runs with them on for its own duration. The page's scripts
		// stay unrun: those the parser skipped are not run later, and the
		// switch is off again before the next action.
		p.setScripts(true)
		defer p.setScripts(false)
	}
	scope, _ := json.Marshal(p.scope)
	vs, err := run(p, axeTimeout, chromedp.Evaluate[[]Violation](fmt.Sprintf(axeRun, scope), chromedp.EvalAwaitPromise))
	if err != nil {
		p.fatalf("axe: running: %v", errText(err))
	}
	return vs
}

// setScripts switches script execution of the tab.
func (p *Page) setScripts(on bool) {
	p.t.Helper()
	err := p.do(actionTimeout, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	}))
	if err != nil {
		p.fatalf("switching scripts on=%v: %v", on, err)
	}
}
