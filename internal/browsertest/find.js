// find returns the element a person would mean by a visible text, or throws
// an Error that says what the page has instead. Page.find calls it through
// the DevTools protocol, which runs it even where the page's CSP or disabled
// JavaScript stops the page's own scripts.
//
// kind "label": the control of the <label> whose text is text (for= or
//   nested), first by the label's whole text, then by its own text nodes
//   (a label with a nested hint, "Slug <small>lowercase</small>").
// kind "click": the first visible button, submit input or link whose text
//   (an input's value; else aria-label) is text.
// scope: a CSS selector; the search stays inside its first match.
(function (kind, text, scope) {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const q = JSON.stringify;
  const root = scope ? document.querySelector(scope) : document;
  if (!root) throw new Error("no element matches " + q(scope));
  const visible = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const ownText = (el) =>
    norm(Array.from(el.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" "));

  if (kind === "label") {
    const labels = Array.from(root.querySelectorAll("label"));
    let hits = labels.filter((l) => norm(l.textContent) === text);
    if (hits.length === 0) hits = labels.filter((l) => ownText(l) === text);
    const tied = hits.filter((l) => l.control);
    if (tied.length === 0) {
      if (hits.length > 0) {
        throw new Error("the label " + q(text) + " belongs to no control: its for= names no labelable element and it wraps none");
      }
      throw new Error("no label " + q(text) + "; the labels here are " + q(labels.map((l) => norm(l.textContent))));
    }
    return (tied.find((l) => visible(l.control) || visible(l)) || tied[0]).control;
  }

  if (kind === "click") {
    const all = Array.from(root.querySelectorAll(
      'button, input[type=submit], input[type=button], input[type=reset], input[type=image], a[href], [role=button]'));
    const textOf = (el) => (el.tagName === "INPUT" ? norm(el.value || el.alt) : norm(el.innerText || el.textContent));
    let hits = all.filter((el) => textOf(el) === text);
    if (hits.length === 0) hits = all.filter((el) => norm(el.getAttribute("aria-label")) === text);
    const shown = hits.find(visible);
    if (shown) return shown;
    if (hits.length > 0) throw new Error("the button or link " + q(text) + " is on the page but not visible");
    throw new Error("no button or link " + q(text) + "; the visible ones are " + q(all.filter(visible).map(textOf).filter(Boolean)));
  }

  throw new Error("unknown kind " + kind);
})
