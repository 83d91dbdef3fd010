package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/orgid/orgid/storage"
)

// Transport delivers one message of the outbox. A Sender calls it from
// its own goroutine, never from a request's.
type Transport interface {
	// Send delivers m, whose parts are text and html.
	Send(ctx context.Context, m storage.MailMessage, text, html string) error
	// Delivered is the status a message gets once Send succeeded:
	// storage.MailSent, or storage.MailLogged for the log transport.
	Delivered() storage.MailStatus
}

// DialTimeout bounds connecting to the SMTP server and each command of
// the conversation.
const DialTimeout = 10 * time.Second

// permanentError marks a failure that no retry can fix (a malformed
// address): the message is given up on at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// smtpTransport sends through an SMTP server with go-mail.
type smtpTransport struct {
	host        string
	port        int
	implicitTLS bool
	user, pass  string
	from        string
}

// NewSMTPTransport returns a Transport that sends from the address from
// through the SMTP server that rawURL names:
//
//   - smtp://[user:password@]host[:port]: port 587 when a user is given,
//     else 25; STARTTLS whenever the server offers it.
//   - smtps://[user:password@]host[:port]: implicit TLS (RFC 8314), port
//     465.
//
// With a user the client authenticates (SMTP AUTH), choosing among the
// mechanisms the server offers; PLAIN and LOGIN only over TLS. Errors
// never contain the password.
func NewSMTPTransport(rawURL, from string) (Transport, error) {
	t, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	if _, err := netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail: sender address %q: %w", from, err)
	}
	t.from = from
	return t, nil
}

// parseSMTPURL reads an SMTP URL. url.Parse's own errors quote the whole
// URL, password included, so they are never passed on.
func parseSMTPURL(rawURL string) (*smtpTransport, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("mail: the SMTP URL is malformed; want smtp://[user:password@]host[:port] or smtps://…")
	}
	t := &smtpTransport{host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		t.implicitTLS = true
	default:
		return nil, fmt.Errorf("mail: SMTP URL scheme %q is not supported; want smtp:// (STARTTLS when offered) or smtps:// (implicit TLS)", u.Scheme)
	}
	if t.host == "" {
		return nil, errors.New("mail: the SMTP URL names no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("mail: the SMTP URL must have no path, query or fragment")
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
		if t.user == "" {
			return nil, errors.New("mail: the SMTP URL has a password but no user")
		}
	}
	switch {
	case u.Port() != "":
		p, err := strconv.Atoi(u.Port())
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("mail: SMTP port %q is not a port number", u.Port())
		}
		t.port = p
	case t.implicitTLS:
		t.port = gomail.DefaultPortSSL
	case t.user != "":
		t.port = gomail.DefaultPortTLS // submission (RFC 6409)
	default:
		t.port = gomail.DefaultPort
	}
	return t, nil
}

func (t *smtpTransport) Delivered() storage.MailStatus { return storage.MailSent }

func (t *smtpTransport) Send(ctx context.Context, m storage.MailMessage, text, html string) error {
	msg, err := t.message(m, text, html)
	if err != nil {
		return permanentError{err}
	}
	opts := []gomail.Option{gomail.WithPort(t.port), gomail.WithTimeout(DialTimeout)}
	if t.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if t.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(t.user), gomail.WithPassword(t.pass))
	}
	// A client per message: go-mail's Client keeps per-connection state,
	// and a Sender sends one message at a time anyway.
	c, err := gomail.NewClient(t.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", t.addr(), err)
	}
	return nil
}

func (t *smtpTransport) addr() string {
	return t.host + ":" + strconv.Itoa(t.port)
}

// message builds the MIME message: text/plain with a text/html
// alternative, and a Message-ID derived from the outbox ID so that a
// message sent twice (a sender that died after the server accepted it)
// is recognisable as one (RFC 5322 §3.6.4).
func (t *smtpTransport) message(m storage.MailMessage, text, html string) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(t.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(MessageID(m.ID))
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetBodyString(gomail.TypeTextPlain, text)
	if html != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	}
	return msg, nil
}

// MessageID is the Message-ID (without angle brackets) of the outbox
// message id: the same on every attempt.
func MessageID(id string) string { return id + "@orgid" }

// logTransport writes messages to the log, for installations without an
// SMTP server.
type logTransport struct{ log *slog.Logger }

// NewLogTransport returns a Transport that writes each message, its text
// part (and so its links) included, to logger at info level: with no SMTP
// server configured, the log is where an operator finds the links. The
// message stays in the outbox with status storage.MailLogged.
func NewLogTransport(logger *slog.Logger) Transport {
	if logger == nil {
		logger = slog.Default()
	}
	return logTransport{logger}
}

func (t logTransport) Delivered() storage.MailStatus { return storage.MailLogged }

func (t logTransport) Send(ctx context.Context, m storage.MailMessage, text, _ string) error {
	t.log.InfoContext(ctx, "mail (no SMTP server configured)",
		slog.String("tenant", m.TenantID), slog.String("id", m.ID), slog.String("kind", m.Kind),
		slog.String("to", m.To), slog.String("subject", m.Subject), slog.String("text", text))
	return nil
}
