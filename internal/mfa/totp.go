package mfa

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// RFC 6238 parameters every authenticator app supports (Google
// Authenticator ignores anything else in the otpauth URL).
const (
	period     = 30 // seconds per step (RFC 6238 §5.2 recommends 30)
	digits     = otp.DigitsSix
	secretSize = 20 // bytes: the HMAC-SHA1 output size (RFC 4226 §4 R6 asks for 128 bits, recommends 160)
	// skew is how many steps either side of now are accepted, for clock
	// drift and typing time (RFC 6238 §5.2 recommends at most one).
	skew = 1
	// qrSize is the QR code's width and height in pixels.
	qrSize = 200
	// maxCodeLen bounds the input Verify looks at before refusing it.
	maxCodeLen = 64
	// minSecretSize is the shortest secret Verify uses (RFC 4226 §4 R6:
	// the shared secret MUST be at least 128 bits), so that an empty or
	// truncated secret (HMAC with an empty key works) never verifies.
	minSecretSize = 16
)

// opts are the options for every code orgid generates or checks. Digits is
// set explicitly: pquerna/otp's ValidateCustom treats zero Digits as
// length 0 and would refuse every code.
var opts = totp.ValidateOpts{Period: period, Digits: digits, Algorithm: otp.AlgorithmSHA1}

// Enrolment is a new, unconfirmed TOTP factor to show the user.
type Enrolment struct {
	// Secret is the base32 secret (no padding), to type into an app by
	// hand and to seal for storage.
	Secret string
	// URL is the otpauth://totp/ key URI that the QR code encodes.
	URL string
	// QRCode is a PNG image of URL, qrSize pixels square.
	QRCode []byte
}

// NewTOTP returns a new random TOTP secret for account (e.g. the user's
// email) at issuer (the name the app shows).
func NewTOTP(issuer, account string) (Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      period,
		SecretSize:  secretSize,
		Digits:      digits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("mfa: generate TOTP key: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrolment{}, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("mfa: QR code PNG: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(), QRCode: buf.Bytes()}, nil
}

// Step returns the RFC 6238 time step of t: floor(unix seconds / 30)
// (§4.2, with T0 = 0).
func Step(t time.Time) int64 {
	s := t.Unix()
	step := s / period
	if s < 0 && s%period != 0 {
		step-- // floor, not truncation, before 1970
	}
	return step
}

// Code returns the code of secret at t. The login page never needs it;
// tests and tools do.
func Code(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, opts)
}

// Verify checks code against secret at now, accepting the steps
// Step(now)-1 .. Step(now)+1, and refuses a step at or before lastStep, the
// last one accepted (RFC 6238 §5.2: a verifier MUST NOT accept the second
// attempt of the same OTP). It returns the accepted step, which the caller
// records with the store's compare-and-set (storage.MFAStore.UseTOTPStep)
// before treating the factor as passed.
//
// code may have spaces around or inside it ("123 456", as apps show it);
// anything other than exactly six ASCII digits is refused at once. A
// secret that is not base32 of at least 128 bits verifies nothing.
func Verify(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	c, ok := normaliseCode(code)
	if !ok || !secretOK(secret) {
		return 0, false
	}
	now0 := Step(now)
	// Compare against every step in the window, without stopping at the
	// first match, so that timing does not tell which step matched. If two
	// steps share a code (chance 1e-6), the earliest one not replayed wins.
	var match int64
	found := false
	for s := now0 - skew; s <= now0+skew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*period, 0), opts)
		if err != nil || len(want) != len(c) {
			return 0, false
		}
		eq := subtle.ConstantTimeCompare([]byte(want), c) == 1
		if eq && s > lastStep && !found {
			match, found = s, true
		}
	}
	return match, found
}

// normaliseCode removes spaces and returns the code if exactly six ASCII
// digits remain. Unicode digits ('١') and other spaces are refused: no
// authenticator shows them, and accepting them would need a mapping.
func normaliseCode(code string) ([]byte, bool) {
	if len(code) > maxCodeLen {
		return nil, false
	}
	out := make([]byte, 0, digits.Length())
	for i := 0; i < len(code); i++ {
		switch b := code[i]; {
		case b == ' ' || b == '\t':
		case b >= '0' && b <= '9':
			if len(out) == digits.Length() {
				return nil, false
			}
			out = append(out, b)
		default:
			return nil, false
		}
	}
	if len(out) != digits.Length() {
		return nil, false
	}
	return out, true
}

// secretOK says secret is base32 (as pquerna/otp reads it: any case,
// padding optional) of at least minSecretSize bytes.
func secretOK(secret string) bool {
	s := strings.TrimRight(strings.ToUpper(strings.TrimSpace(secret)), "=")
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	return err == nil && len(b) >= minSecretSize
}
