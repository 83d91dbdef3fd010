package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/orgid/orgid/storage"
)

// Defaults of SenderConfig.
const (
	DefaultPollInterval = 2 * time.Second
	DefaultLease        = 2 * time.Minute
	DefaultMinBackoff   = 10 * time.Second
	DefaultMaxBackoff   = 10 * time.Minute
	DefaultGiveUpAfter  = 72 * time.Hour
	DefaultBatchSize    = 20
)

// SenderConfig configures a Sender. Zero durations take the defaults.
type SenderConfig struct {
	Store     storage.MailStore
	Sealer    Sealer
	Transport Transport
	// Now is the clock of due times, leases and backoff; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger

	// PollInterval is how often the outbox is looked at without a Kick.
	PollInterval time.Duration
	// Lease is how long a claimed message stays with this sender: when it
	// dies mid-attempt, another sender retries the message after that.
	// It must be longer than an attempt takes (DialTimeout per step).
	Lease time.Duration
	// MinBackoff is the wait after the first failed attempt; it doubles
	// with each further failure up to MaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// GiveUpAfter is how long after its creation a message that keeps
	// failing is still retried; then it becomes storage.MailFailed.
	GiveUpAfter time.Duration
	// BatchSize is how many messages one claim takes at most.
	BatchSize int
}

// Sender drains the outbox: it claims due messages, sends each through
// its Transport and records the outcome. Any number of Senders (one per
// replica) may share a store; a lease gives each message to one of them
// at a time. Delivery is at least once: a sender that dies after the
// server accepted a message but before recording it sends it again, with
// the same Message-ID.
type Sender struct {
	store     storage.MailStore
	sealer    Sealer
	transport Transport
	now       func() time.Time
	log       *slog.Logger

	poll, lease, minBackoff, maxBackoff, giveUp time.Duration
	batch                                       int

	kick chan struct{}
}

// NewSender returns a Sender; Run starts it.
func NewSender(c SenderConfig) (*Sender, error) {
	if c.Store == nil || c.Sealer == nil || c.Transport == nil {
		return nil, errors.New("mail: a Sender needs a Store, a Sealer and a Transport")
	}
	s := &Sender{
		store: c.Store, sealer: c.Sealer, transport: c.Transport, now: c.Now, log: c.Logger,
		poll: orDefault(c.PollInterval, DefaultPollInterval), lease: orDefault(c.Lease, DefaultLease),
		minBackoff: orDefault(c.MinBackoff, DefaultMinBackoff), maxBackoff: orDefault(c.MaxBackoff, DefaultMaxBackoff),
		giveUp: orDefault(c.GiveUpAfter, DefaultGiveUpAfter), batch: c.BatchSize,
		kick: make(chan struct{}, 1),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.batch <= 0 {
		s.batch = DefaultBatchSize
	}
	if s.maxBackoff < s.minBackoff {
		s.maxBackoff = s.minBackoff
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Kick makes Run look at the outbox now. It never blocks.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// kickSettle is when Run looks again after a Kick. Outbox.Enqueue kicks
// from inside the transaction that writes the message, so the first look
// may come before the commit and miss it.
const kickSettle = 250 * time.Millisecond

// Run sends due messages until ctx is done: every PollInterval, and at
// once after a Kick. Storage errors are logged and retried at the next
// tick.
func (s *Sender) Run(ctx context.Context) {
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	settle := time.NewTimer(time.Hour)
	settle.Stop() // armed by a Kick
	defer settle.Stop()
	for {
		s.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-settle.C:
		case <-s.kick:
			settle.Reset(min(kickSettle, s.poll))
		}
	}
}

// drain sends due messages until none is left or the store fails.
func (s *Sender) drain(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := s.SendDue(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("mail: claim messages from the outbox", slog.Any("error", err))
			}
			return
		}
		if n < s.batch {
			return
		}
	}
}

// SendDue makes one pass: it claims up to a batch of due messages,
// attempts each and records the outcomes. It returns how many it
// claimed; the error is the claim's (the outcome of each message is
// logged and recorded in the store).
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	now := s.now()
	msgs, err := s.store.ClaimMail(ctx, now, now.Add(s.lease), s.batch)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if ctx.Err() != nil {
			// Unattempted claims go back when their lease ends.
			break
		}
		s.attempt(ctx, m)
	}
	return len(msgs), nil
}

// maxErrorLen bounds the error kept with a message.
const maxErrorLen = 500

// attempt sends one claimed message and records the outcome.
func (s *Sender) attempt(ctx context.Context, m storage.MailMessage) {
	attempt := m.Attempts + 1
	text, html, err := Open(s.sealer, m)
	if err == nil {
		// The attempt must end well within the lease, or another sender
		// would take the message while this one still sends it.
		sendCtx, cancel := context.WithTimeout(ctx, s.lease/2)
		err = s.transport.Send(sendCtx, m, text, html)
		cancel()
	} else {
		err = permanentError{err}
	}
	now := s.now()
	attrs := []any{slog.String("tenant", m.TenantID), slog.String("id", m.ID), slog.String("kind", m.Kind), slog.Int("attempt", attempt)}

	status, next, lastError := s.transport.Delivered(), time.Time{}, ""
	switch {
	case err == nil:
		s.log.Info("mail: delivered", append(attrs, slog.String("status", string(status)))...)
	case ctx.Err() != nil:
		// Shutting down: hand the message back for the next start (or
		// another replica) without waiting for a backoff.
		status, next, lastError = storage.MailPending, now, "interrupted: "+err.Error()
	case isPermanent(err) || !now.Before(m.CreatedAt.Add(s.giveUp)):
		status, lastError = storage.MailFailed, err.Error()
		s.log.Error("mail: giving up on a message", append(attrs, slog.Any("error", err))...)
	default:
		status, next, lastError = storage.MailPending, now.Add(s.backoff(m.Attempts)), err.Error()
		s.log.Warn("mail: attempt failed; will retry", append(attrs, slog.Any("error", err), slog.Time("next_attempt", next))...)
	}
	if len(lastError) > maxErrorLen {
		lastError = lastError[:maxErrorLen]
	}
	// The outcome is recorded even when ctx ends meanwhile: a message
	// sent but not recorded would be sent again after its lease.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.store.FinishMail(fctx, m.TenantID, m.ID, status, now, next, lastError); err != nil {
		s.log.Warn("mail: record the outcome of an attempt", append(attrs, slog.String("status", string(status)), slog.Any("error", err))...)
	}
}
