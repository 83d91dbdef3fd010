package e2etest

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// FindForm returns the action and the pre-filled fields of the form whose
// submit button has the given text.
func FindForm(t T, body, button string) (string, url.Values) {
	t.Helper()
	for _, f := range elements(t, body, "form") {
		values := url.Values{}
		found := false
		walk(f, func(n *html.Node) {
			if n.Data == "input" && attr(n, "name") != "" {
				values.Set(attr(n, "name"), attr(n, "value"))
			}
			if n.Data == "button" && strings.TrimSpace(text(n)) == button {
				found = true
			}
		})
		if found {
			return attr(f, "action"), values
		}
	}
	t.Fatalf("no form with a %q button in:\n%s", button, body)
	return "", nil
}

// LinkTo returns the href of the first link whose text contains label.
func LinkTo(t T, body, label string) string {
	t.Helper()
	for _, a := range elements(t, body, "a") {
		if strings.Contains(text(a), label) {
			return attr(a, "href")
		}
	}
	t.Fatalf("no link %q in:\n%s", label, body)
	return ""
}

// elements returns every element named tag, in document order.
func elements(t T, body, tag string) []*html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Data == tag {
			out = append(out, n)
		}
	})
	return out
}

// walk calls f for n and every element below it.
func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var sb strings.Builder
	var collect func(*html.Node)
	collect = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			collect(c)
		}
	}
	collect(n)
	return sb.String()
}

// Form is one form of a page as a browser would submit it.
type Form struct {
	Action string
	Method string // lower case; "get" when absent
	// Values are what the form sends as it stands: text inputs and hidden
	// fields, checked checkboxes and radios, selected options, textareas.
	Values url.Values
	// Buttons are the texts of its submit buttons.
	Buttons []string
}

// Forms returns every form of body.
func Forms(t T, body string) []Form {
	t.Helper()
	var out []Form
	for _, f := range elements(t, body, "form") {
		form := Form{Action: attr(f, "action"), Method: strings.ToLower(attr(f, "method")), Values: url.Values{}}
		if form.Method == "" {
			form.Method = "get"
		}
		walk(f, func(n *html.Node) {
			name := attr(n, "name")
			switch n.Data {
			case "input":
				typ := strings.ToLower(attr(n, "type"))
				switch {
				case name == "":
				case typ == "checkbox" || typ == "radio":
					if hasAttr(n, "checked") {
						v := attr(n, "value")
						if v == "" {
							v = "on"
						}
						form.Values.Add(name, v)
					}
				case typ == "submit" || typ == "button" || typ == "file":
				default:
					form.Values.Add(name, attr(n, "value"))
				}
			case "textarea":
				if name != "" {
					form.Values.Add(name, text(n))
				}
			case "select":
				if name == "" {
					return
				}
				var first, chosen string
				var found bool
				walk(n, func(o *html.Node) {
					if o.Data != "option" {
						return
					}
					v := attr(o, "value")
					if !hasAttr(o, "value") {
						v = strings.TrimSpace(text(o))
					}
					if first == "" {
						first = v
					}
					if hasAttr(o, "selected") && !found {
						chosen, found = v, true
					}
				})
				if !found {
					chosen = first
				}
				form.Values.Add(name, chosen)
			case "button":
				if t := strings.ToLower(attr(n, "type")); t == "" || t == "submit" {
					form.Buttons = append(form.Buttons, strings.TrimSpace(text(n)))
				}
			}
		})
		out = append(out, form)
	}
	return out
}

// FormWith returns the form of body with a submit button saying button.
func FormWith(t T, body, button string) Form {
	t.Helper()
	for _, f := range Forms(t, body) {
		for _, b := range f.Buttons {
			if b == button {
				return f
			}
		}
	}
	t.Fatalf("no form with a %q button in:\n%s", button, body)
	return Form{}
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// Walk calls f for n and every element below it, in document order.
func Walk(n *html.Node, f func(*html.Node)) { walk(n, f) }

// Attr is the value of n's attribute key, or "".
func Attr(n *html.Node, key string) string { return attr(n, key) }

// Text is the text content of n and everything below it.
func Text(n *html.Node) string { return text(n) }
