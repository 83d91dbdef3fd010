package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// b64 is the PHC string format's base64: standard alphabet, no padding.
// Strict so that one hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// phc is a parsed argon2id hash in PHC string format.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func (p phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parsePHC parses "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>". It accepts
// only the canonical form that phc.String writes, with bounded parameters.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, ErrMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, ErrMalformedHash
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return phc{}, ErrMalformedHash
	}
	m, okM := phcParam(params[0], "m=", maxArgonMemory)
	t, okT := phcParam(params[1], "t=", maxArgonTime)
	p, okP := phcParam(params[2], "p=", maxArgonThreads)
	if !okM || !okT || !okP || m < 8*p {
		return phc{}, ErrMalformedHash
	}
	salt, ok := decodeB64(parts[4], minSaltLen, maxSaltLen)
	if !ok {
		return phc{}, ErrMalformedHash
	}
	key, ok := decodeB64(parts[5], minKeyLen, maxKeyLen)
	if !ok {
		return phc{}, ErrMalformedHash
	}
	return phc{memory: m, time: t, threads: uint8(p), salt: salt, key: key}, nil
}

// decodeB64 decodes s and checks its length. The decoder skips CR and
// LF, so the result is re-encoded and compared: one hash, one spelling.
func decodeB64(s string, minLen, maxLen int) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	if err != nil || len(b) < minLen || len(b) > maxLen || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// phcParam parses "name=value" with a decimal value in [1, limit] and no
// sign or leading zero.
func phcParam(s, name string, limit uint32) (uint32, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok || v == "" || len(v) > 10 || v[0] == '0' {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 1 || n > uint64(limit) {
		return 0, false
	}
	return uint32(n), true
}
