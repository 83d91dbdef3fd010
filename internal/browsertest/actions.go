package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

//go:embed find.js
var findJS string

// find returns the element that kind ("label" or "click") and text name.
func (p *Page) find(kind, text string) (*runtime.RemoteObject, error) {
	args, err := json.Marshal([]string{kind, text, p.scope})
	if err != nil {
		return nil, err
	}
	expr := fmt.Sprintf("(%s)(...%s)", findJS, args)
	el, err := run(p, actionTimeout, chromedp.Evaluate[*runtime.RemoteObject](expr))
	if err != nil {
		return nil, fmt.Errorf("%s", errText(err))
	}
	if el == nil || el.ObjectID == "" {
		return nil, fmt.Errorf("%s %q: no element", kind, text)
	}
	return el, nil
}

// call runs the function declaration fn with this = el and decodes its
// result into T.
func call[T any](p *Page, el *runtime.RemoteObject, fn string, args ...any) (T, error) {
	v, err := run(p, actionTimeout, chromedp.CallFunctionOn[T](fn, func(cp *runtime.CallFunctionOnParams) {
		cp.ObjectID = el.ObjectID
	}, args...))
	if err != nil {
		return v, fmt.Errorf("%s", errText(err))
	}
	return v, nil
}

// prepareFill checks that this is a field a person can type into, focuses
// and empties it. Fields without a caret (date, color, range…) get their
// value set here; the result says whether the caller still has to type.
const prepareFill = `function (value) {
	const el = this;
	const what = el.tagName.toLowerCase() + (el.type ? "[type=" + el.type + "]" : "");
	if (el.tagName !== "INPUT" && el.tagName !== "TEXTAREA") throw new Error("the control is a " + what + ", not a text field");
	if (["checkbox", "radio", "submit", "button", "reset", "image", "file", "hidden"].includes(el.type)) throw new Error("the control is an " + what + ", not a text field");
	if (el.disabled) throw new Error("the field is disabled");
	if (el.readOnly) throw new Error("the field is read-only");
	el.scrollIntoView({block: "center"});
	el.focus();
	const typed = el.tagName === "TEXTAREA" || ["text", "email", "password", "search", "tel", "url", "number"].includes(el.type);
	if (typed) { el.value = ""; return true; }
	el.value = value;
	el.dispatchEvent(new Event("input", {bubbles: true}));
	el.dispatchEvent(new Event("change", {bubbles: true}));
	return false;
}`

// Fill types value into the text field (input or textarea) whose <label>
// has the text label, replacing what it held. It types through the browser's
// input pipeline (Input.insertText), so the page sees input events; fields
// without a caret (date, color…) get their value set.
func (p *Page) Fill(label, value string) {
	p.t.Helper()
	el, err := p.find("label", label)
	if err != nil {
		p.fatalf("Fill(%q): %v", label, err)
	}
	typed, err := call[bool](p, el, prepareFill, value)
	if err != nil {
		p.fatalf("Fill(%q): %v", label, err)
	}
	if typed && value != "" {
		if err := p.do(actionTimeout, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: value})
			return err
		})); err != nil {
			p.fatalf("Fill(%q): typing: %v", label, err)
		}
	}
	got, err := call[string](p, el, `function () { this.dispatchEvent(new Event("change", {bubbles: true})); return this.value; }`)
	if err != nil {
		p.fatalf("Fill(%q): %v", label, err)
	}
	if want := strings.ReplaceAll(value, "\r\n", "\n"); got != want {
		p.fatalf("Fill(%q): the field holds %q after typing %q (maxlength? a pattern that strips?)", label, got, value)
	}
}

// Select chooses, in the <select> whose label is label, the option whose
// value or visible text is value. In a multiple select it adds the option.
func (p *Page) Select(label, value string) {
	p.t.Helper()
	el, err := p.find("label", label)
	if err != nil {
		p.fatalf("Select(%q): %v", label, err)
	}
	_, err = call[chromedp.Void](p, el, `function (value) {
		const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
		if (this.tagName !== "SELECT") throw new Error("the control is a " + this.tagName.toLowerCase() + ", not a select");
		if (this.disabled) throw new Error("the select is disabled");
		const opts = Array.from(this.options);
		const o = opts.find((o) => o.value === value) || opts.find((o) => norm(o.text) === norm(value));
		if (!o) throw new Error("no option " + JSON.stringify(value) + "; the options are " + JSON.stringify(opts.map((o) => o.value + " (" + norm(o.text) + ")")));
		if (o.disabled) throw new Error("the option " + JSON.stringify(value) + " is disabled");
		o.selected = true;
		this.dispatchEvent(new Event("input", {bubbles: true}));
		this.dispatchEvent(new Event("change", {bubbles: true}));
	}`, value)
	if err != nil {
		p.fatalf("Select(%q, %q): %v", label, value, err)
	}
}

// Check ticks (on) or clears the checkbox whose label is label, by clicking
// it as a person would (or its label, when the box itself is hidden by
// styling); a radio button can only be turned on.
func (p *Page) Check(label string, on bool) {
	p.t.Helper()
	el, err := p.find("label", label)
	if err != nil {
		p.fatalf("Check(%q): %v", label, err)
	}
	const state = `function () {
		if (this.tagName !== "INPUT" || (this.type !== "checkbox" && this.type !== "radio")) throw new Error("the control is not a checkbox or radio button");
		if (this.disabled) throw new Error("the checkbox is disabled");
		return this.checked;
	}`
	checked, err := call[bool](p, el, state)
	if err != nil {
		p.fatalf("Check(%q): %v", label, err)
	}
	if checked == on {
		return
	}
	target, err := run(p, actionTimeout, chromedp.CallFunctionOn[*runtime.RemoteObject](
		`function () { return this.getClientRects().length > 0 ? this : (this.labels && this.labels[0]) || this; }`,
		func(cp *runtime.CallFunctionOnParams) { cp.ObjectID = el.ObjectID }))
	if err != nil {
		p.fatalf("Check(%q): %v", label, errText(err))
	}
	if _, err := p.clickElement(target); err != nil {
		p.fatalf("Check(%q): %v", label, err)
	}
	if checked, err = call[bool](p, el, state); err != nil {
		p.fatalf("Check(%q): %v", label, err)
	}
	if checked != on {
		p.fatalf("Check(%q, %v): the box is still %v after a click", label, on, checked)
	}
}

// Click clicks, with the mouse, the first visible button, submit input or
// link whose visible text is text (else whose aria-label is), and waits for
// the navigation it causes: a submit button or a link to another page must
// start loading within 5 s (else a script cancelled it, and Click returns)
// and finish within the action timeout. Other buttons, and submit buttons
// of a form that fails its HTML validation (required…), return at once.
// Several buttons with one text: use [Page.In] to pick the part of the page.
func (p *Page) Click(text string) {
	p.t.Helper()
	el, err := p.find("click", text)
	if err != nil {
		p.fatalf("Click(%q): %v", text, err)
	}
	if _, err := p.clickElement(el); err != nil {
		p.fatalf("Click(%q): %v", text, err)
	}
}

// clickTarget is where and what a click hits.
type clickTarget struct {
	X, Y       float64
	Navigates  bool
	Obstructed string // what covers the element's center, if anything
}

// locateClick scrolls the element into view and finds its center, whether
// a person could click it there, and whether the click should navigate.
const locateClick = `function () {
	const el = this;
	if (el.disabled) throw new Error("the element is disabled");
	el.scrollIntoView({block: "center", inline: "center"});
	const r = el.getBoundingClientRect();
	const x = r.left + r.width / 2, y = r.top + r.height / 2;
	const hit = document.elementFromPoint(x, y);
	let obstructed = "";
	if (hit && hit !== el && !el.contains(hit) && !(el.control && el.control === hit)) {
		obstructed = hit.tagName.toLowerCase() + (hit.id ? "#" + hit.id : "") + (hit.className ? "." + String(hit.className).split(/\s+/).join(".") : "");
	}
	let nav = false;
	const a = el.closest("a[href]");
	if (a && !a.hasAttribute("download") && (!a.target || a.target === "_self")) {
		const u = new URL(a.href, document.baseURI);
		const here = new URL(location.href);
		u.hash = ""; here.hash = "";
		nav = u.protocol !== "javascript:" && !(u.href === here.href && a.getAttribute("href").includes("#"));
	} else if (el.form && (el.type === "submit" || el.type === "image")) {
		const method = (el.getAttribute("formmethod") || el.form.getAttribute("method") || "").toLowerCase();
		const target = el.getAttribute("formtarget") || el.form.getAttribute("target") || "";
		// A form that fails its own validation (required, pattern…) is
		// not sent: the browser shows the message instead.
		const validates = !el.formNoValidate && !el.form.noValidate;
		nav = method !== "dialog" && (target === "" || target === "_self") && !(validates && !el.form.checkValidity());
	}
	return {X: x, Y: y, Navigates: nav, Obstructed: obstructed};
}`

// clickElement clicks el with the mouse at its center and, when the click
// should navigate, waits for the new page.
func (p *Page) clickElement(el *runtime.RemoteObject) (navigated bool, err error) {
	ct, err := call[clickTarget](p, el, locateClick)
	if err != nil {
		return false, err
	}
	if ct.Obstructed != "" {
		return false, fmt.Errorf("a person could not click it: %s covers its center", ct.Obstructed)
	}
	if !ct.Navigates {
		return false, p.do(actionTimeout, chromedp.MouseClickXY(ct.X, ct.Y))
	}

	// Subscribe before the click so that no event is missed.
	mainFrame := string(chromedp.FromContext(p.ctx).Target.TargetID)
	startCtx, cancelStart := context.WithTimeout(p.ctx, navStartGrace)
	defer cancelStart()
	stopCtx, cancelStop := context.WithTimeout(p.ctx, actionTimeout)
	defer cancelStop()
	started := chromedp.Events(startCtx, page.FrameStartedLoading)
	stopped := chromedp.Events(stopCtx, page.FrameStoppedLoading)

	if err := p.do(actionTimeout, chromedp.MouseClickXY(ct.X, ct.Y)); err != nil {
		return false, err
	}
	began := false
	for ev, err := range started {
		if err != nil {
			break // no navigation: a script handled the click
		}
		if string(ev.FrameID) == mainFrame {
			began = true
			break
		}
	}
	if !began {
		return false, nil
	}
	for ev, err := range stopped {
		if err != nil {
			return true, fmt.Errorf("the page it opened did not finish loading in %s: %w", actionTimeout, err)
		}
		if string(ev.FrameID) == mainFrame {
			return true, nil
		}
	}
	return true, nil
}

// Text is the text content, trimmed, of the first element that selector
// (CSS) matches; the test fails when none does.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	args, _ := json.Marshal([]string{selector, p.scope})
	s, err := run(p, actionTimeout, chromedp.Evaluate[*string](fmt.Sprintf(`((sel, scope) => {
		const root = scope ? document.querySelector(scope) : document;
		const el = root && root.querySelector(sel);
		return el ? el.textContent : null;
	})(...%s)`, args)))
	if err != nil {
		p.fatalf("Text(%q): %v", selector, errText(err))
	}
	if s == nil {
		p.fatalf("Text(%q): no element matches", selector)
	}
	return strings.TrimSpace(*s)
}

// HasText reports whether the page shows s: the rendered text of the body
// (innerText, so hidden elements do not count) contains it, with runs of
// white space on both sides counted as one space.
func (p *Page) HasText(s string) bool {
	p.t.Helper()
	args, _ := json.Marshal([]string{s, p.scope})
	ok, err := run(p, actionTimeout, chromedp.Evaluate[bool](fmt.Sprintf(`((s, scope) => {
		const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
		const root = scope ? document.querySelector(scope) : document.body;
		if (!root) throw new Error("no element matches " + JSON.stringify(scope));
		return norm(root.innerText).includes(norm(s));
	})(...%s)`, args)))
	if err != nil {
		p.fatalf("HasText(%q): %v", s, errText(err))
	}
	return ok
}
