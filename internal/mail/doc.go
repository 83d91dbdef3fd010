// Package mail sends orgid's email through a durable outbox: a message is
// rendered (text and HTML parts) and stored sealed in the transaction of
// the change that caused it, and a Sender drains the outbox over SMTP
// with retries and backoff, or writes it to the log when no SMTP server
// is configured. Requests never wait for a mail server.
package mail
