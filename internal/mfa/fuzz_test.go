package mfa

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// FuzzVerify: no code string panics Verify, and Verify accepts exactly
// the right code of a step in the window after lastStep, computed here
// independently with pquerna/otp.
func FuzzVerify(f *testing.F) {
	seedTime := int64(1750000000)
	right, _ := Code(rfcSecret, time.Unix(seedTime, 0))
	prev, _ := Code(rfcSecret, time.Unix(seedTime-30, 0))
	for _, s := range []string{
		right, " " + right + " ", right[:3] + " " + right[3:], prev, "287082", "000000", "",
		"12345", "1234567", "12a456", "\u0661\u0662\u0663\u0664\u0665\u0666", "１２３４５６",
		"1\u00a023456", "\x00\x00\x00\x00\x00\x00", "\xff\xfe123456", strings.Repeat("1", 100),
	} {
		f.Add(s, seedTime, int8(-1))
		f.Add(s, seedTime, int8(0))
	}
	f.Add("287082", int64(59), int8(-5))
	f.Fuzz(func(t *testing.T, code string, unix int64, lastDelta int8) {
		// Keep time in the range a real clock shows (1970..2100), and
		// lastStep near now so that replay refusals are exercised.
		unix = ((unix%4102444800)+4102444800)%4102444800 + 60
		now := time.Unix(unix, 0)
		lastStep := Step(now) + int64(lastDelta%4)

		step, ok := Verify(rfcSecret, code, now, lastStep)

		opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
		typed := strings.NewReplacer(" ", "", "\t", "").Replace(code)
		wellFormed := len(code) <= 64 && len(typed) == 6 && strings.Trim(typed, "0123456789") == ""
		var want int64
		wantOK := false
		for d := int64(-1); d <= 1; d++ {
			c, err := totp.GenerateCodeCustom(rfcSecret, now.Add(time.Duration(d)*30*time.Second), opts)
			if err != nil {
				t.Fatal(err)
			}
			s := Step(now) + d
			if wellFormed && typed == c && s > lastStep && !wantOK {
				want, wantOK = s, true
			}
		}
		if ok != wantOK || (ok && step != want) {
			t.Fatalf("Verify(%q, t=%d, last=%+d) = %d, %v; want %d, %v", code, unix, lastDelta%4, step, ok, want, wantOK)
		}
	})
}

// FuzzHashRecoveryCode: no input panics, an accepted input hashes like its
// canonical spelling, and the canonical spelling is 10 alphabet characters.
func FuzzHashRecoveryCode(f *testing.F) {
	codes, _ := NewRecoveryCodes(testKey)
	for _, s := range []string{
		codes[0], strings.ToUpper(codes[1]), strings.ReplaceAll(codes[2], "-", ""), " abcde - fghij ",
		"", "-", "abcde-fghi", "abcde-fghijk", "abcde-fgh1j", "abcde-fgh0j", "ABCDE\u212aFGHI", "abcdé-fghi",
		strings.Repeat("a", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := HashRecoveryCode(testKey, s)
		stripped := strings.NewReplacer(" ", "", "\t", "", "-", "").Replace(s)
		// ASCII only: strings.ToLower alone would also map, e.g., the
		// Kelvin sign to k.
		wantOK := len(s) <= 64 && len(stripped) == 10 &&
			strings.Trim(stripped, recoveryAlphabet+"ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
		canon := strings.ToLower(stripped)
		if ok != wantOK {
			t.Fatalf("HashRecoveryCode(%q) ok = %v, want %v", s, ok, wantOK)
		}
		if !ok {
			if h != nil {
				t.Fatalf("HashRecoveryCode(%q) refused but returned a hash", s)
			}
			return
		}
		if h2, ok2 := HashRecoveryCode(testKey, canon[:5]+"-"+canon[5:]); !ok2 || string(h) != string(h2) {
			t.Fatalf("HashRecoveryCode(%q) differs from its display form %q", s, canon)
		}
	})
}
