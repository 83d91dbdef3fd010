package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Message is one mail to send, rendered.
type Message struct {
	TenantID string
	To       string
	Subject  string
	// Kind names the template (storage.MailMessage.Kind).
	Kind string
	Text string
	HTML string
}

// Sealer seals message bodies at rest (the master key's *keys.Sealer):
// they carry live links.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// body is what is sealed in storage.MailMessage.BodySealed.
type body struct {
	Text string `json:"text"`
	HTML string `json:"html"`
}

// bodyAAD binds a sealed body to its message.
func bodyAAD(tenantID, id string) []byte {
	return []byte("orgid/mail/" + tenantID + "/" + id)
}

// Outbox writes messages into the durable outbox.
type Outbox struct {
	sealer Sealer
	now    func() time.Time
	kick   func()
}

// NewOutbox returns an Outbox that seals with sealer. now is the clock
// (time.Now when nil).
func NewOutbox(sealer Sealer, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{sealer: sealer, now: now}
}

// OnEnqueue sets a function called after each Enqueue (a Sender's Kick),
// so that a message goes out soon after its transaction commits.
func (o *Outbox) OnEnqueue(kick func()) { o.kick = kick }

// Enqueue stores m as a pending message through st, which should be the
// Store of the transaction of the change that caused it: the message is
// stored if and only if the change is.
func (o *Outbox) Enqueue(ctx context.Context, st storage.MailStore, m Message) error {
	if m.TenantID == "" || m.To == "" {
		return errors.New("mail: message without tenant or recipient")
	}
	id := secure.ID("msg")
	plain, err := json.Marshal(body{Text: m.Text, HTML: m.HTML})
	if err != nil {
		return fmt.Errorf("mail: encode body: %w", err)
	}
	sealed, err := o.sealer.Seal(plain, bodyAAD(m.TenantID, id))
	if err != nil {
		return fmt.Errorf("mail: seal body: %w", err)
	}
	now := o.now().UTC().Truncate(time.Microsecond)
	err = st.EnqueueMail(ctx, storage.MailMessage{
		TenantID: m.TenantID, ID: id, To: m.To, Subject: m.Subject, Kind: m.Kind,
		BodySealed: sealed, Status: storage.MailPending, NextAttemptAt: now, CreatedAt: now,
	})
	if err != nil {
		return err
	}
	if o.kick != nil {
		o.kick()
	}
	return nil
}

// Open returns the text and HTML parts of a stored message.
func Open(sealer Sealer, m storage.MailMessage) (text, html string, err error) {
	plain, err := sealer.Open(m.BodySealed, bodyAAD(m.TenantID, m.ID))
	if err != nil {
		return "", "", fmt.Errorf("mail: open body of %s: %w", m.ID, err)
	}
	var b body
	if err := json.Unmarshal(plain, &b); err != nil {
		return "", "", fmt.Errorf("mail: decode body of %s: %w", m.ID, err)
	}
	return b.Text, b.HTML, nil
}
