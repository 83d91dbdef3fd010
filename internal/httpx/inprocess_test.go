package httpx

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestInProcess(t *testing.T) {
	var seen *http.Request
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", string(body))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "path="+r.URL.Path)
	})
	rt, err := InProcess("https://id.example.com/base", func() http.Handler { return h })
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: rt}
	res, err := c.Post("https://id.example.com/base/t/acme/oauth/token?x=1", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated || string(body) != "path=/t/acme/oauth/token" || res.Header.Get("X-Echo") != "hello" {
		t.Errorf("got %d %q echo %q; want 201 path=/t/acme/oauth/token echo hello", res.StatusCode, body, res.Header.Get("X-Echo"))
	}
	if seen.RemoteAddr != "127.0.0.1:0" || seen.Host != "id.example.com" || seen.URL.RawQuery != "x=1" {
		t.Errorf("handler saw remote %q host %q query %q", seen.RemoteAddr, seen.Host, seen.URL.RawQuery)
	}
	for _, other := range []string{"https://evil.example/base/t/acme", "http://id.example.com/base/x", "https://id.example.com/other"} {
		seen = nil
		if _, err := c.Get(other); err == nil || seen != nil {
			t.Errorf("%s: err %v, handler reached %v; want refused before the handler", other, err, seen != nil)
		}
	}
}
