// Package mfa is the pure logic of orgid's second factor: TOTP enrolment
// and verification (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step, no
// step accepted twice) with github.com/pquerna/otp, and one-time recovery
// codes stored as keyed hashes (HMAC-SHA256). It does no I/O: time is passed in and the
// caller stores the accepted step and the hashes.
//
// The TOTP secret is sealed at rest by the caller with keys.Sealer, whose
// additional data binds the sealed value to its row so that it does not
// open when copied to another user:
//
//	aad := []byte("orgid/totp/" + tenantID + "/" + userID)
//	sealed, err := sealer.Seal([]byte(enrolment.Secret), aad) // storage.TOTPFactor.SecretSealed
//	secret, err := sealer.Open(f.SecretSealed, aad)           // keys.ErrOpen if moved or tampered
//	step, ok := mfa.Verify(string(secret), code, now, f.LastStep)
//	// then store.UseTOTPStep(ctx, tenantID, userID, step): its compare-and-set
//	// refuses a concurrent use of the same code.
package mfa
