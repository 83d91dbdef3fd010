// Package mailtest runs an SMTP server inside a test, on loopback, that
// keeps every message it receives, decoded into its text and HTML parts.
// It can be stopped and restarted on the same port to play an outage.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server received.
type Message struct {
	// From and To are the envelope's sender and recipients.
	From string
	To   []string
	// Subject is the decoded Subject header.
	Subject string
	// MessageID is the Message-ID header without its angle brackets.
	MessageID string
	// Text and HTML are the decoded text/plain and text/html parts.
	Text string
	HTML string
	// Raw is the message as received.
	Raw []byte
}

// Server is an SMTP server on 127.0.0.1. It accepts any sender and
// recipient and needs no authentication.
type Server struct {
	addr string

	mu      sync.Mutex
	srv     *smtp.Server
	l       net.Listener
	msgs    []Message
	arrived chan struct{} // closed (and replaced) when a message arrives
}

// Start starts a server that stops when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{addr: l.Addr().String(), arrived: make(chan struct{})}
	s.serve(l)
	tb.Cleanup(s.Stop)
	return s
}

// URL is the server's smtp:// URL (ORGID_SMTP_URL).
func (s *Server) URL() string { return "smtp://" + s.addr }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.mu.Lock()
	s.srv, s.l = srv, l
	s.mu.Unlock()
	go srv.Serve(l)
}

// Stop closes the listener and every connection: until Restart,
// connections are refused, as when a mail server is down. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, l := s.srv, s.l
	s.srv, s.l = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// The listener is closed here too: Serve, started in its own
		// goroutine, may not have registered it with srv yet.
		l.Close()
		srv.Close()
	}
}

// Restart listens again on the same port after Stop, keeping the
// messages received so far.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		tb.Fatalf("mailtest: Restart of a running server")
	}
	var (
		l   net.Listener
		err error
	)
	// The port was ours a moment ago; give the kernel a little while if
	// it still holds it.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if l, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("mailtest: listen again on %s: %v", s.addr, err)
	}
	s.serve(l)
}

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count returns how many received messages have the Message-ID messageID
// (with or without angle brackets).
func (s *Server) Count(messageID string) int {
	messageID = strings.Trim(messageID, "<>")
	n := 0
	for _, m := range s.Messages() {
		if m.MessageID == messageID {
			n++
		}
	}
	return n
}

// WaitFor returns the first received message for which pred holds,
// waiting up to timeout for it to arrive; the test fails when none does.
func (s *Server) WaitFor(tb testing.TB, pred func(Message) bool, timeout time.Duration) Message {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, arrived := s.msgs, s.arrived
		s.mu.Unlock()
		for _, m := range msgs {
			if pred(m) {
				return m
			}
		}
		select {
		case <-arrived:
		case <-deadline.C:
			tb.Fatalf("mailtest: no matching message within %v (%d received)", timeout, len(msgs))
			return Message{}
		}
	}
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// Link returns the first line of text that is an absolute http(s) URL
// (DESIGN §5: a link is a plain absolute URL on a line of its own), or
// "" when there is none.
func Link(text string) string {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "http://") && !strings.HasPrefix(line, "https://") {
			continue
		}
		if u, err := url.Parse(line); err == nil && u.IsAbs() && u.Host != "" && !strings.ContainsAny(line, " \t") {
			return line
		}
	}
	return ""
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	ss.s.add(m)
	return nil
}

// parse decodes what it can of raw; a message it cannot read is kept
// with Raw alone, for the test to look at.
func parse(raw []byte) Message {
	m := Message{Raw: raw}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	var dec mime.WordDecoder
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.Subject = msg.Header.Get("Subject")
	}
	m.MessageID = strings.Trim(strings.TrimSpace(msg.Header.Get("Message-Id")), "<>")
	walk(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m
}

// walk fills m's Text and HTML from a part and, for multipart parts,
// from the parts inside it: the first text/plain and text/html win.
func walk(m *Message, contentType, encoding string, body io.Reader) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain" // RFC 2045 §5.2
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart() // undecoded: we decode ourselves
			if err != nil {
				return
			}
			walk(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	text, err := decode(encoding, body)
	if err != nil {
		return
	}
	switch mediaType {
	case "text/plain":
		if m.Text == "" {
			m.Text = text
		}
	case "text/html":
		if m.HTML == "" {
			m.HTML = text
		}
	}
}

func decode(encoding string, r io.Reader) (string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r) // ignores line breaks
	case "", "7bit", "8bit", "binary":
	default:
		return "", errors.New("mailtest: unknown transfer encoding " + encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
