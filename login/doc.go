// Package login serves the sign-in and sign-up pages of orgid's OpenID
// Provider: it shows server-rendered forms, checks passwords (argon2id),
// starts single sign-on sessions and marks the pending auth request done or
// failed before sending the browser back to the OIDC side through Flow.
// It also serves the pages that mail links open (email verification,
// password reset, invitation acceptance), queuing their mail in the
// durable outbox within the transaction of the change.
//
// It does not import op: the OIDC side injects what it needs (the callback
// URL) through the narrow Flow interface.
package login
