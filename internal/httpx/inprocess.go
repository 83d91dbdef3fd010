package httpx

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// InProcess returns a transport that serves requests for base (the
// external URL) with handler, in this process: orgid's own pages use it to
// talk to its protocol endpoints as a client (the portal's sign-in)
// without depending on the external URL being reachable from inside a
// deployment (a load balancer, TLS terminated elsewhere). The request
// goes through the whole handler, middleware included; its client
// address is loopback. Requests for any other origin are refused.
func InProcess(base string, handler func() http.Handler) (http.RoundTripper, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("httpx: in-process base %q is not an absolute URL", base)
	}
	return &inProcess{base: u, prefix: strings.TrimSuffix(u.Path, "/"), handler: handler}, nil
}

type inProcess struct {
	base    *url.URL
	prefix  string
	handler func() http.Handler
}

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != t.base.Scheme || !strings.EqualFold(req.URL.Host, t.base.Host) ||
		(t.prefix != "" && req.URL.Path != t.prefix && !strings.HasPrefix(req.URL.Path, t.prefix+"/")) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("httpx: in-process transport serves only %s, not %s", t.base, req.URL.Redacted())
	}
	r := req.Clone(req.Context())
	r.URL.Path = strings.TrimPrefix(req.URL.Path, t.prefix)
	if r.URL.Path == "" {
		r.URL.Path = "/"
	}
	r.URL.RawPath = ""
	r.RequestURI = r.URL.RequestURI()
	r.Host = t.base.Host
	r.RemoteAddr = "127.0.0.1:0"
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := &recorder{header: http.Header{}}
	t.handler().ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	res := &http.Response{
		Status:        strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}
	return res, nil
}

// recorder keeps a handler's response in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
