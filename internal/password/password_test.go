package password

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery", "pässwörd🙂", strings.Repeat("x", 256), ""} {
		h1, err := Hash(pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		if !phcRE.MatchString(h1) {
			t.Errorf("hash %q is not an OWASP-parameter argon2id PHC string", h1)
		}
		h2, _ := Hash(pw)
		if h1 == h2 {
			t.Errorf("two hashes of %q are equal: salt not random", pw)
		}
		if ok, err := Verify(h1, pw); !ok || err != nil {
			t.Errorf("Verify(hash, %q) = %v, %v; want true, nil", pw, ok, err)
		}
		if ok, err := Verify(h1, pw+"x"); ok || err != nil {
			t.Errorf("Verify(hash, wrong) = %v, %v; want false, nil", ok, err)
		}
	}
}

// TestVerifyParameters checks that verification uses the
// parameters written in the hash, not the current defaults, so that old
// hashes keep working when the defaults change.
func TestVerifyParameters(t *testing.T) {
	p := phc{memory: 64, time: 1, threads: 2, salt: []byte("0123456789abcdef")}
	p.key = idKey("pw", p, 24)
	h := p.String()
	if ok, err := Verify(h, "pw"); !ok || err != nil {
		t.Fatalf("Verify(%q) = %v, %v; want true", h, ok, err)
	}
	if ok, _ := Verify(h, "pW"); ok {
		t.Fatal("wrong password accepted")
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, err := Hash("password1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := slices.Clone(parts)
		p[i] = v
		return strings.Join(p, "$")
	}
	cases := map[string]string{
		"empty":            "",
		"dollar only":      "$",
		"bcrypt":           "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":          with(1, "argon2i"),
		"argon2d":          with(1, "argon2d"),
		"version 16":       with(2, "v=16"),
		"no version":       strings.Join(append(parts[:2:2], parts[3:]...), "$"),
		"params order":     with(3, "t=2,m=19456,p=1"),
		"missing param":    with(3, "m=19456,t=2"),
		"extra param":      with(3, "m=19456,t=2,p=1,k=1"),
		"zero time":        with(3, "m=19456,t=0,p=1"),
		"zero threads":     with(3, "m=19456,t=2,p=0"),
		"negative":         with(3, "m=-1,t=2,p=1"),
		"plus sign":        with(3, "m=+19456,t=2,p=1"),
		"leading zero":     with(3, "m=019456,t=2,p=1"),
		"huge memory":      with(3, "m=4294967295,t=2,p=1"),
		"overflow":         with(3, "m=99999999999,t=2,p=1"),
		"huge time":        with(3, "m=19456,t=1000000,p=1"),
		"huge threads":     with(3, "m=19456,t=2,p=255"),
		"memory < 8p":      with(3, "m=8,t=1,p=2"),
		"salt not base64":  with(4, "!!!!"),
		"salt padded":      with(4, parts[4]+"=="),
		"salt too short":   with(4, "AAAA"),
		"key not base64":   with(5, "****"),
		"key too short":    with(5, "AAAAAAAA"),
		"trailing field":   good + "$x",
		"missing key":      strings.Join(parts[:5], "$"),
		"no leading $":     strings.TrimPrefix(good, "$"),
		"spaces":           " " + good,
		"keyid parameter":  with(3, "m=19456,t=2,p=1,keyid=abc"),
		"non-ascii digits": with(3, "m=１９４５６,t=2,p=1"),
		"newline in key":   with(5, parts[5][:10]+"\n"+parts[5][10:]),
		"CR after key":     good + "\r",
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ok, err := Verify(h, "password1")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformedHash", h, ok, err)
			}
		})
	}
}

// FuzzParsePHC: the parser never panics, and what it accepts is canonical:
// writing it back gives the same string.
func FuzzParsePHC(f *testing.F) {
	good, _ := Hash("seed")
	for _, s := range []string{good, "", "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=19456,t=2,p=1$$", "$$$$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC(%q) error %v is not ErrMalformedHash", s, err)
			}
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("parsePHC(%q) accepted a non-canonical string; canonical is %q", s, got)
		}
		if p.memory > maxArgonMemory || p.time > maxArgonTime || p.threads > maxArgonThreads || p.memory < 8*uint32(p.threads) {
			t.Fatalf("parsePHC(%q) accepted out-of-bounds parameters %+v", s, p)
		}
	})
}

// BenchmarkVerify measures one sign-in's password check with the
// production parameters.
func BenchmarkVerify(b *testing.B) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := Verify(h, "correct horse battery staple"); !ok || err != nil {
			b.Fatal("verify failed")
		}
	}
}

func TestHashWithParams(t *testing.T) {
	h, err := HashWithParams("pw", Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash = %q", h)
	}
	if ok, err := Verify(h, "pw"); !ok || err != nil {
		t.Errorf("Verify = %v, %v", ok, err)
	}
	for _, p := range []Params{{}, {Memory: 8, Time: 1, Threads: 2}, {Memory: 64, Time: 17, Threads: 1}, {Memory: 1<<20 + 1, Time: 1, Threads: 1}} {
		if _, err := HashWithParams("pw", p); err == nil {
			t.Errorf("HashWithParams accepted %+v, which Verify would refuse", p)
		}
	}
}
