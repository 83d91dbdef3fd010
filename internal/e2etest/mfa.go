package e2etest

import (
	"strings"

	"golang.org/x/net/html"
)

// ElementText returns the text of the element with the given id, such as
// the TOTP secret of the enrolment page (#totp-secret), trimmed.
func ElementText(t T, body, id string) string {
	t.Helper()
	if n := byID(t, body, id); n != nil {
		return strings.TrimSpace(text(n))
	}
	t.Fatalf("no element #%s in:\n%s", id, body)
	return ""
}

// ListItems returns the trimmed texts of the <li> elements inside the
// element with the given id, such as the recovery codes shown after
// enrolment.
func ListItems(t T, body, id string) []string {
	t.Helper()
	n := byID(t, body, id)
	if n == nil {
		t.Fatalf("no element #%s in:\n%s", id, body)
	}
	var out []string
	walk(n, func(c *html.Node) {
		if c.Data == "li" {
			out = append(out, strings.TrimSpace(text(c)))
		}
	})
	return out
}

// ImageSources returns the src of every <img>, in document order.
func ImageSources(t T, body string) []string {
	t.Helper()
	var out []string
	for _, n := range elements(t, body, "img") {
		out = append(out, attr(n, "src"))
	}
	return out
}

func byID(t T, body, id string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if found == nil && attr(n, "id") == id {
			found = n
		}
	})
	return found
}
