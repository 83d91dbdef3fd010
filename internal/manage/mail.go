package manage

import (
	"context"
	"errors"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/storage"
)

// The mail outbox as the tenant's administrators see it (DESIGN §3: with
// no SMTP server, mail is logged and kept in an outbox that the console
// shows). Messages carry live links, so this is for the management API
// only.

// OutboxMessage is a message of the outbox with its parts opened.
type OutboxMessage struct {
	storage.MailMessage
	Text string
	HTML string
}

// ListMail pages through the tenant's outbox, newest first; the bodies
// stay sealed.
func (s *Service) ListMail(ctx context.Context, tenant string, p storage.Page) ([]storage.MailMessage, string, error) {
	return s.store.ListMail(ctx, tenant, p)
}

// GetMail returns one message of the tenant's outbox with its text and
// HTML parts. ErrNotFound.
func (s *Service) GetMail(ctx context.Context, tenant, id string) (OutboxMessage, error) {
	if s.sealer == nil {
		return OutboxMessage{}, errors.New("manage: no sealer to open mail with")
	}
	m, err := s.store.GetMail(ctx, tenant, id)
	if err != nil {
		return OutboxMessage{}, err
	}
	text, html, err := mail.Open(s.sealer, m)
	if err != nil {
		return OutboxMessage{}, err
	}
	return OutboxMessage{MailMessage: m, Text: text, HTML: html}, nil
}
