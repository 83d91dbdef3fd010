package password

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: the OWASP Password Storage Cheat Sheet's first
// recommendation (19 MiB of memory, 2 passes, 1 lane).
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on parameters read back from a stored hash, so that a corrupt or
// hostile row cannot make one verification allocate gigabytes or spin.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 16
	maxArgonThreads = 16
	minSaltLen      = 8
	maxSaltLen      = 64
	minKeyLen       = 16
	maxKeyLen       = 64
)

// ErrMalformedHash is returned by Verify for a string that is not an
// argon2id PHC hash orgid can check.
var ErrMalformedHash = errors.New("password: malformed hash")

// argonSlots bounds how many argon2 computations run at once: each holds
// 19 MiB, and a burst of sign-ins must not exhaust memory.
var argonSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// HashWithParams is Hash with other cost parameters, within the bounds
// Verify accepts. Tests use it with small parameters to stay fast; Verify
// reads the parameters back from the hash, so such hashes verify anywhere.
func HashWithParams(password string, params Params) (string, error) {
	if params.Memory < 8*uint32(params.Threads) || params.Memory > maxArgonMemory || params.Time < 1 ||
		params.Time > maxArgonTime || params.Threads < 1 || params.Threads > maxArgonThreads {
		return "", fmt.Errorf("password: parameters %+v out of bounds", params)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	p := phc{memory: params.Memory, time: params.Time, threads: params.Threads, salt: salt}
	p.key = idKey(password, p, argonKeyLen)
	return p.String(), nil
}

// Hash returns the argon2id hash of password as a PHC string,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, with a fresh 16-byte salt.
func Hash(password string) (string, error) {
	return HashWithParams(password, Params{Memory: argonMemory, Time: argonTime, Threads: argonThreads})
}

// Verify reports whether password matches the PHC hash, using the
// parameters written in the hash and a constant-time comparison. A hash it
// cannot parse is ErrMalformedHash.
func Verify(hash, password string) (bool, error) {
	p, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	got := idKey(password, p, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}

func idKey(password string, p phc, keyLen uint32) []byte {
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	return argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, keyLen)
}
