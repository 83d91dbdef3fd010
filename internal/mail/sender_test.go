package mail_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/mail/mailtest"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// The sender runs over the real SQL store, on SQLite and (when
// ORGID_TEST_DATABASE_URL is set) on PostgreSQL, and sends to an SMTP
// server in the test. Time is a fake clock: backoff, leases and giving up
// happen when the test moves it, never by sleeping.

const (
	tenant = "acme"
	from   = "orgid <no-reply@orgid.test>"
	// wait bounds how long a test waits for something to happen.
	wait = 10 * time.Second
)

// backend makes the DSN of a fresh database; open may open it more than
// once (a restarted orgid, a second replica).
type backend struct {
	name string
	dsn  func(testing.TB) string
}

var backends = []backend{
	{"sqlite", sqltest.SQLitePath},
	{"postgres", sqltest.PostgresURL},
}

func forEachBackend(t *testing.T, f func(t *testing.T, dsn string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b.dsn(t))
		})
	}
}

// open opens the store at dsn (migrated), closed when t ends unless the
// test closes it before.
func open(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fixture is a store with a tenant, a sealer and a clock.
type fixture struct {
	store  *sqlstore.Store
	sealer *keys.Sealer
	clock  *fakeclock.Clock
	outbox *mail.Outbox
}

func newFixture(t *testing.T, dsn string) *fixture {
	t.Helper()
	f := &fixture{store: open(t, dsn), clock: fakeclock.New(time.Now().UTC().Truncate(time.Second))}
	key := make([]byte, 32)
	rand.Read(key)
	var err error
	if f.sealer, err = keys.NewSealer(key); err != nil {
		t.Fatal(err)
	}
	f.outbox = mail.NewOutbox(f.sealer, f.clock.Now)
	err = f.store.CreateTenant(context.Background(), storage.Tenant{ID: tenant, Name: "Acme", Settings: storage.DefaultTenantSettings(), CreatedAt: f.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// enqueue writes a verification message to to, with the link
// https://id.acme.test/t/acme/verify/{n}, and returns it as stored.
func (f *fixture) enqueue(t *testing.T, st storage.MailStore, to string, n int) (storage.MailMessage, string) {
	t.Helper()
	link := fmt.Sprintf("https://id.acme.test/t/acme/verify/%d", n)
	m, err := mail.VerifyEmail(mail.LinkData{TenantID: tenant, Product: "Acme", To: to, Name: "Alice", Link: link, ValidFor: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.outbox.Enqueue(ctx, st, m); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	// Enqueue does not tell the ID; the recipient is unique in each test.
	msgs, _, err := st.ListMail(ctx, tenant, storage.Page{})
	if err != nil {
		t.Fatalf("list mail: %v", err)
	}
	for _, sm := range msgs {
		if sm.To == to {
			return sm, link
		}
	}
	t.Fatalf("no message to %s in the outbox", to)
	return storage.MailMessage{}, ""
}

func (f *fixture) sender(t *testing.T, st storage.MailStore, tr mail.Transport, c mail.SenderConfig) *mail.Sender {
	t.Helper()
	c.Store, c.Sealer, c.Transport, c.Now = st, f.sealer, tr, f.clock.Now
	if c.PollInterval == 0 {
		c.PollInterval = 10 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := mail.NewSender(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs s until the returned stop is called (or t ends).
func run(t *testing.T, s *mail.Sender) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func smtpTransport(t *testing.T, srv *mailtest.Server) mail.Transport {
	t.Helper()
	tr, err := mail.NewSMTPTransport(srv.URL(), from)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// waitMail waits until the stored message id satisfies ok.
func waitMail(t *testing.T, st storage.MailStore, id, what string, ok func(storage.MailMessage) bool) storage.MailMessage {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		m, err := st.GetMail(context.Background(), tenant, id)
		if err == nil && ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s never became %s: %+v (%v)", id, what, withoutBody(m), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func withoutBody(m storage.MailMessage) storage.MailMessage {
	m.BodySealed = nil
	return m
}

func status(s storage.MailStatus) func(storage.MailMessage) bool {
	return func(m storage.MailMessage) bool { return m.Status == s }
}

func failedAttempts(n int) func(storage.MailMessage) bool {
	return func(m storage.MailMessage) bool { return m.Status == storage.MailPending && m.Attempts >= n }
}

func byID(id string) func(mailtest.Message) bool {
	return func(m mailtest.Message) bool { return m.MessageID == mail.MessageID(id) }
}

func TestSenderDelivers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		run(t, f.sender(t, f.store, smtpTransport(t, srv), mail.SenderConfig{}))

		stored, link := f.enqueue(t, f.store, "alice@acme.test", 1)
		got := srv.WaitFor(t, byID(stored.ID), wait)

		if got.From != "no-reply@orgid.test" || len(got.To) != 1 || got.To[0] != "alice@acme.test" {
			t.Errorf("envelope from %q to %q", got.From, got.To)
		}
		if got.Subject != "Verify your email address for Acme" {
			t.Errorf("subject %q", got.Subject)
		}
		if l := mailtest.Link(got.Text); l != link {
			t.Errorf("link line %q, want %q; text part:\n%s", l, link, got.Text)
		}
		if !strings.Contains(got.HTML, link) || !strings.Contains(strings.ToLower(got.HTML), "<a ") {
			t.Errorf("HTML part lacks the link:\n%s", got.HTML)
		}
		if !strings.Contains(string(got.Raw), "Message-ID: <"+stored.ID+"@orgid>") {
			t.Errorf("no Message-ID header <%s@orgid> in\n%s", stored.ID, got.Raw)
		}
		m := waitMail(t, f.store, stored.ID, "sent", status(storage.MailSent))
		if m.SentAt.IsZero() || m.Attempts != 0 || m.LeaseUntil.After(f.clock.Now()) {
			t.Errorf("sent message: %+v", withoutBody(m))
		}
	})
}

func TestSenderRetriesAfterOutage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		srv.Stop()
		run(t, f.sender(t, f.store, smtpTransport(t, srv), mail.SenderConfig{MinBackoff: time.Minute}))

		stored, link := f.enqueue(t, f.store, "alice@acme.test", 1)
		m := waitMail(t, f.store, stored.ID, "failed once", failedAttempts(1))
		if m.LastError == "" || !m.NextAttemptAt.After(f.clock.Now()) {
			t.Fatalf("after a failed attempt: %+v", withoutBody(m))
		}

		srv.Restart(t)
		f.clock.Advance(2 * time.Minute) // past the backoff
		waitMail(t, f.store, stored.ID, "sent", status(storage.MailSent))
		got := srv.WaitFor(t, byID(stored.ID), wait)
		if mailtest.Link(got.Text) != link {
			t.Errorf("text part:\n%s", got.Text)
		}
		if n := srv.Count(mail.MessageID(stored.ID)); n != 1 {
			t.Errorf("delivered %d times", n)
		}
	})
}

// An orgid restarted during an outage (new Sender, store reopened) sends
// what the old one could not, once.
func TestSenderRestartDuringOutage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		srv.Stop()
		stop1 := run(t, f.sender(t, f.store, smtpTransport(t, srv), mail.SenderConfig{MinBackoff: time.Minute}))
		stored, _ := f.enqueue(t, f.store, "alice@acme.test", 1)
		waitMail(t, f.store, stored.ID, "failed once", failedAttempts(1))
		stop1()
		if err := f.store.Close(); err != nil {
			t.Fatal(err)
		}

		store2 := open(t, dsn)
		run(t, f.sender(t, store2, smtpTransport(t, srv), mail.SenderConfig{MinBackoff: time.Minute}))
		srv.Restart(t)
		f.clock.Advance(2 * time.Minute)
		waitMail(t, store2, stored.ID, "sent", status(storage.MailSent))
		srv.WaitFor(t, byID(stored.ID), wait)
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("SMTP server received %d messages, want 1", n)
		}
	})
}

// lockedBuffer collects log output written by the sender's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogTransport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		var logs lockedBuffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		run(t, f.sender(t, f.store, mail.NewLogTransport(logger), mail.SenderConfig{}))

		stored, link := f.enqueue(t, f.store, "alice@acme.test", 1)
		m := waitMail(t, f.store, stored.ID, "logged", status(storage.MailLogged))
		if m.SentAt.IsZero() {
			t.Errorf("logged message without SentAt: %+v", withoutBody(m))
		}
		var line string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "id="+stored.ID) && strings.Contains(l, "text=") {
				line = l
			}
		}
		for _, want := range []string{"level=INFO", link, "to=alice@acme.test", "tenant=acme"} {
			if !strings.Contains(line, want) {
				t.Errorf("log line lacks %q: %s\n(all logs:\n%s)", want, line, logs.String())
			}
		}
		// The message stays readable in the outbox.
		text, _, err := mail.Open(f.sealer, m)
		if err != nil || mailtest.Link(text) != link {
			t.Errorf("outbox body: %q %v", text, err)
		}
	})
}

// Two senders (two replicas) on one outbox send each message once.
func TestConcurrentSenders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		const n = 20
		ids := make([]string, n)
		for i := range ids {
			m, _ := f.enqueue(t, f.store, fmt.Sprintf("user%d@acme.test", i), i)
			ids[i] = m.ID
		}
		stores := []storage.MailStore{f.store, f.store}
		if !strings.HasSuffix(dsn, ".db") {
			stores[1] = open(t, dsn) // PostgreSQL: a second pool, as on another replica
		}
		for _, st := range stores {
			run(t, f.sender(t, st, smtpTransport(t, srv), mail.SenderConfig{BatchSize: 3}))
		}
		for _, id := range ids {
			waitMail(t, f.store, id, "sent", status(storage.MailSent))
		}
		for _, id := range ids {
			if c := srv.Count(mail.MessageID(id)); c != 1 {
				t.Errorf("message %s delivered %d times", id, c)
			}
		}
		if got := len(srv.Messages()); got != n {
			t.Errorf("SMTP server received %d messages, want %d", got, n)
		}
	})
}

// A message claimed by a sender that died mid-attempt goes out once its
// lease has run out, and not before.
func TestExpiredLeaseIsRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		ctx := context.Background()
		stored, _ := f.enqueue(t, f.store, "alice@acme.test", 1)

		// The dead sender's claim.
		now := f.clock.Now()
		claimed, err := f.store.ClaimMail(ctx, now, now.Add(mail.DefaultLease), 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}

		s := f.sender(t, f.store, smtpTransport(t, srv), mail.SenderConfig{})
		if n, err := s.SendDue(ctx); n != 0 || err != nil {
			t.Fatalf("SendDue under a live lease: %d %v", n, err)
		}
		f.clock.Advance(mail.DefaultLease + time.Second)
		if n, err := s.SendDue(ctx); n != 1 || err != nil {
			t.Fatalf("SendDue after the lease: %d %v", n, err)
		}
		srv.WaitFor(t, byID(stored.ID), wait)
		if m, _ := f.store.GetMail(ctx, tenant, stored.ID); m.Status != storage.MailSent {
			t.Errorf("status %s", m.Status)
		}
		if c := srv.Count(mail.MessageID(stored.ID)); c != 1 {
			t.Errorf("delivered %d times", c)
		}
	})
}

// A message that keeps failing is retried with growing waits and given
// up on GiveUpAfter after its creation.
func TestGiveUp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		srv.Stop()
		ctx := context.Background()
		const (
			minB   = time.Minute
			maxB   = 8 * time.Minute
			giveUp = time.Hour
		)
		s := f.sender(t, f.store, smtpTransport(t, srv), mail.SenderConfig{MinBackoff: minB, MaxBackoff: maxB, GiveUpAfter: giveUp})
		stored, _ := f.enqueue(t, f.store, "alice@acme.test", 1)

		var m storage.MailMessage
		for attempt := 1; ; attempt++ {
			if n, err := s.SendDue(ctx); n != 1 || err != nil {
				t.Fatalf("attempt %d: SendDue = %d, %v", attempt, n, err)
			}
			var err error
			if m, err = f.store.GetMail(ctx, tenant, stored.ID); err != nil {
				t.Fatal(err)
			}
			if m.Attempts != attempt || m.LastError == "" {
				t.Fatalf("after attempt %d: %+v", attempt, withoutBody(m))
			}
			if m.Status == storage.MailFailed {
				break
			}
			if m.Status != storage.MailPending {
				t.Fatalf("after attempt %d: status %s", attempt, m.Status)
			}
			// MinBackoff·2^(attempt-1), capped, plus at most 10% jitter.
			want := min(minB<<(attempt-1), maxB)
			if d := m.NextAttemptAt.Sub(f.clock.Now()); d < want || d > want+want/10+time.Millisecond {
				t.Errorf("after attempt %d the wait is %v, want %v (+10%%)", attempt, d, want)
			}
			if n, _ := s.SendDue(ctx); n != 0 {
				t.Fatalf("a message was sent before its backoff ended")
			}
			f.clock.Advance(m.NextAttemptAt.Sub(f.clock.Now()))
		}
		if f.clock.Now().Before(stored.CreatedAt.Add(giveUp)) {
			t.Errorf("given up at %v, before %v", f.clock.Now(), stored.CreatedAt.Add(giveUp))
		}
		if m.Attempts < 5 {
			t.Errorf("given up after only %d attempts", m.Attempts)
		}
		// No further attempt.
		f.clock.Advance(24 * time.Hour)
		if n, _ := s.SendDue(ctx); n != 0 {
			t.Errorf("a failed message was claimed again")
		}
	})
}

// A message no retry can fix (a malformed recipient) fails at once.
func TestPermanentFailure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		s := f.sender(t, f.store, smtpTransport(t, srv), mail.SenderConfig{})
		stored, _ := f.enqueue(t, f.store, "not an address", 1)
		if n, err := s.SendDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("SendDue = %d, %v", n, err)
		}
		m, err := f.store.GetMail(context.Background(), tenant, stored.ID)
		if err != nil || m.Status != storage.MailFailed || m.Attempts != 1 || m.LastError == "" {
			t.Errorf("%+v %v", withoutBody(m), err)
		}
	})
}

// Kick wakes a sender whose poll interval is far away.
func TestKick(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		srv := mailtest.Start(t)
		s := f.sender(t, f.store, smtpTransport(t, srv), mail.SenderConfig{PollInterval: time.Hour})
		f.outbox.OnEnqueue(s.Kick)
		run(t, s)
		stored, _ := f.enqueue(t, f.store, "alice@acme.test", 1)
		srv.WaitFor(t, byID(stored.ID), wait)
		for range 1000 {
			s.Kick() // never blocks
		}
	})
}

// A storage error while claiming is logged and retried.
func TestSenderSurvivesStoreErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		var logs lockedBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		f.store.Close() // every call fails from now on
		run(t, f.sender(t, f.store, mail.NewLogTransport(logger), mail.SenderConfig{Logger: logger}))
		deadline := time.Now().Add(wait)
		for !strings.Contains(logs.String(), "level=WARN") {
			if time.Now().After(deadline) {
				t.Fatalf("no warning logged:\n%s", logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
