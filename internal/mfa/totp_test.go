package mfa

import (
	"bytes"
	"encoding/base32"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the RFC 6238 Appendix B SHA-1 seed "12345678901234567890"
// in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// TestCodeRFC6238 pins the library to RFC 6238 Appendix B: the SHA-1
// column, last six of its eight digits (a 6-digit code is the same value
// mod 10^6, RFC 4226 §5.3).
func TestCodeRFC6238(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		got, err := Code(rfcSecret, time.Unix(tc.unix, 0))
		if err != nil || got != tc.want {
			t.Errorf("Code(t=%d) = %q, %v; want %q", tc.unix, got, err, tc.want)
		}
	}
}

func TestStep(t *testing.T) {
	const k = 56666666
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(k*30, 0), k},
		{time.Unix(k*30, 0).Add(-time.Nanosecond), k - 1},
		{time.Unix(k*30+29, 999999999), k},
		{time.Unix(0, 0), 0},
		{time.Unix(-1, 0), -1},
		{time.Unix(-30, 0), -1},
		{time.Unix(-31, 0), -2},
	} {
		if got := Step(tc.t); got != tc.want {
			t.Errorf("Step(%v) = %d, want %d", tc.t.Unix(), got, tc.want)
		}
	}
}

// codeAt is the code of step s, for tests.
func codeAt(t *testing.T, secret string, s int64) string {
	t.Helper()
	c, err := Code(secret, time.Unix(s*period, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVerifyWindow moves an injected "now" through a step and across its
// boundaries: codes of the steps -1, 0 and +1 are accepted with their own
// step, -2 and +2 refused.
func TestVerifyWindow(t *testing.T) {
	const k = 58000000 // a step in 2025
	base := time.Unix(k*period, 0)
	for _, tc := range []struct {
		name string
		now  time.Time
		step int64
	}{
		{"at boundary", base, k},
		{"1ns before boundary", base.Add(-time.Nanosecond), k - 1},
		{"1s in", base.Add(time.Second), k},
		{"mid step", base.Add(15 * time.Second), k},
		{"last second", base.Add(29 * time.Second), k},
		{"last nanosecond", base.Add(30*time.Second - time.Nanosecond), k},
		{"next boundary", base.Add(30 * time.Second), k + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Step(tc.now); got != tc.step {
				t.Fatalf("Step = %d, want %d", got, tc.step)
			}
			for d := int64(-2); d <= 2; d++ {
				code := codeAt(t, rfcSecret, tc.step+d)
				step, ok := Verify(rfcSecret, code, tc.now, 0)
				wantOK := d >= -1 && d <= 1
				if ok != wantOK {
					t.Errorf("step %+d: ok = %v, want %v", d, ok, wantOK)
				}
				if ok && step != tc.step+d {
					t.Errorf("step %+d: accepted as step %d, want %d", d, step, tc.step+d)
				}
			}
		})
	}
}

// TestVerifyReplay: a step at or before lastStep is refused, a later one
// accepted (RFC 6238 §5.2).
func TestVerifyReplay(t *testing.T) {
	const k = 58000000
	now := time.Unix(k*period+7, 0)
	for _, tc := range []struct {
		name     string
		codeStep int64
		lastStep int64
		ok       bool
	}{
		{"fresh", k, 0, true},
		{"same step again", k, k, false},
		{"earlier step than last", k - 1, k, false},
		{"previous step, last is older", k - 1, k - 2, true},
		{"previous step equals last", k - 1, k - 1, false},
		{"next step after current used", k + 1, k, true},
		{"next step used already", k + 1, k + 1, false},
		{"last in the future", k, k + 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := Verify(rfcSecret, codeAt(t, rfcSecret, tc.codeStep), now, tc.lastStep)
			if ok != tc.ok || (ok && step != tc.codeStep) {
				t.Errorf("Verify = %d, %v; want %d, %v", step, ok, tc.codeStep, tc.ok)
			}
		})
	}
}

func TestVerifyInput(t *testing.T) {
	now := time.Unix(59, 0) // RFC vector: 287082 at step 1
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{"287082", true},
		{" 287082 ", true},
		{"287 082", true},
		{"\t287082\t", true},
		{"28708", false},
		{"2870820", false},
		{"0287082", false},
		{"287082\n", false},
		{"28708a", false},
		{"+87082", false},
		{"-87082", false},
		{"", false},
		{"      ", false},
		{"287\u00a0082", false}, // no-break space
		{"２８７０８２", false},       // full-width digits
		{"\u0662\u0668\u0667\u0660\u0668\u0662", false}, // Arabic-Indic ٢٨٧٠٨٢
		{"287082287082", false},
		{"000000", false},
		{strings.Repeat(" ", 100) + "287082", false}, // over maxCodeLen
	} {
		if _, ok := Verify(rfcSecret, tc.code, now, 0); ok != tc.ok {
			t.Errorf("Verify(%q) ok = %v, want %v", tc.code, ok, tc.ok)
		}
	}
}

func TestVerifySecret(t *testing.T) {
	now := time.Unix(59, 0)
	// Other spellings of the same secret still work.
	for _, s := range []string{strings.ToLower(rfcSecret), " " + rfcSecret + " "} {
		if _, ok := Verify(s, "287082", now, 0); !ok {
			t.Errorf("Verify with secret %q refused the right code", s)
		}
	}
	// A 128-bit secret (the RFC 4226 minimum), padded or not.
	for _, s := range []string{"GEZDGNBVGY3TQOJQGEZDGNBVGY", "GEZDGNBVGY3TQOJQGEZDGNBVGY======"} {
		code := codeAt(t, s, Step(now))
		if _, ok := Verify(s, code, now, 0); !ok {
			t.Errorf("Verify with 128-bit secret %q refused its code", s)
		}
	}
	// Empty, short or non-base32 secrets verify nothing, even the code an
	// HMAC with that key would give.
	for _, s := range []string{"", "GEZDGNBV", "GEZDGNBVGY3TQOJQGEZD", "not base32 at all!!!!!!!!!!!!!", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1"} {
		if code, err := Code(s, now); err == nil {
			if _, ok := Verify(s, code, now, 0); ok {
				t.Errorf("Verify with bad secret %q accepted its code", s)
			}
		}
		if _, ok := Verify(s, "287082", now, 0); ok {
			t.Errorf("Verify with bad secret %q accepted 287082", s)
		}
	}
}

func TestNewTOTP(t *testing.T) {
	e, err := NewTOTP("Example Corp", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(raw) != 20 {
		t.Errorf("secret %q: %d bytes, %v; want 20 bytes of base32", e.Secret, len(raw), err)
	}

	img, err := png.Decode(bytes.NewReader(e.QRCode))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != qrSize || b.Dy() != qrSize {
		t.Errorf("QR code is %dx%d, want %dx%d", b.Dx(), b.Dy(), qrSize, qrSize)
	}

	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatalf("URL %q: %v", e.URL, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Example Corp:alice@example.com" {
		t.Errorf("URL %q: want otpauth://totp/Example Corp:alice@example.com", e.URL)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"issuer":    "Example Corp",
		"secret":    e.Secret,
		"digits":    "6",
		"period":    "30",
		"algorithm": "SHA1",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("URL %s = %q, want %q", k, got, want)
		}
	}

	// The new secret verifies its own codes.
	now := time.Now()
	code, err := Code(e.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if step, ok := Verify(e.Secret, code, now, 0); !ok || step != Step(now) {
		t.Errorf("Verify(own code) = %d, %v", step, ok)
	}

	// Two enrolments never share a secret.
	e2, err := NewTOTP("Example Corp", "alice@example.com")
	if err != nil || e2.Secret == e.Secret {
		t.Errorf("second enrolment: secret %q, %v", e2.Secret, err)
	}
}

func TestNewTOTPMissing(t *testing.T) {
	if _, err := NewTOTP("", "alice@example.com"); err == nil {
		t.Error("NewTOTP with no issuer succeeded")
	}
	if _, err := NewTOTP("Example", ""); err == nil {
		t.Error("NewTOTP with no account succeeded")
	}
}
