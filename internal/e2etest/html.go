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
