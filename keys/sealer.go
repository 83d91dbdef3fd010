package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// sealVersion is the first byte of every sealed value. It names the format:
// AES-256-GCM under the HKDF sub-key sealInfo, 96-bit random nonce, then
// ciphertext and tag. A new format gets a new version; Open keeps reading
// the old ones.
const sealVersion byte = 1

// HKDF info strings (RFC 5869 §3.2: "info" binds a derived key to its
// purpose). The seal key and the keys handed out by DeriveKey live in
// different name spaces so that no purpose string can obtain the seal key.
const (
	sealInfo   = "orgid/seal/v1"
	derivePref = "orgid/derive/"
)

// ErrOpen is returned by Open for anything it cannot authenticate: a wrong
// master key, wrong additional data, a tampered or truncated value.
var ErrOpen = errors.New("keys: sealed value cannot be opened (wrong master key, wrong context or tampered data)")

// Sealer encrypts small secrets at rest under sub-keys derived from the
// master key. It is safe for concurrent use.
type Sealer struct {
	master []byte
	aead   cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("keys: master key is %d bytes, want %d", len(masterKey), MasterKeySize)
	}
	s := &Sealer{master: append([]byte(nil), masterKey...)}
	block, err := aes.NewCipher(s.derive(sealInfo))
	if err != nil {
		return nil, err
	}
	// NewGCMWithRandomNonce draws a 96-bit nonce per Seal and prepends it.
	// Random nonces are safe for far more values than orgid will ever seal
	// under one key (NIST SP 800-38D §8.3: 2^32 invocations).
	s.aead, err = cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DeriveKey returns a 32-byte key for purpose (e.g. "csrf"), derived from
// the master key with HKDF-SHA256. The same master key and purpose always
// give the same key; different purposes give independent keys.
func (s *Sealer) DeriveKey(purpose string) []byte {
	return s.derive(derivePref + purpose)
}

// derive is HKDF-SHA256 (RFC 5869) with the standard library's crypto/hkdf,
// which golang.org/x/crypto/hkdf merely wraps (and which would need the
// module's go directive raised to 1.26.0).
func (s *Sealer) derive(info string) []byte {
	// No salt: the master key is already uniformly random (RFC 5869 §3.1).
	key, err := hkdf.Key(sha256.New, s.master, nil, info, 32)
	if err != nil {
		panic("keys: hkdf: " + err.Error()) // cannot happen for 32 bytes
	}
	return key
}

// Seal encrypts plaintext and authenticates it together with aad, which
// must be given again to Open. aad binds the value to where it is stored
// (e.g. tenant and key ID) so that a sealed value copied to another row
// does not open there.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1, 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	return s.aead.Seal(out, nil, plaintext, versionedAAD(aad)), nil
}

// Open decrypts a value made by Seal with the same aad. Any failure is
// ErrOpen: it does not say which check failed.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+s.aead.NonceSize()+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrOpen
	}
	plain, err := s.aead.Open(nil, nil, sealed[1:], versionedAAD(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// versionedAAD authenticates the version byte too, so it cannot be
// swapped to make Open read the value in another format.
func versionedAAD(aad []byte) []byte {
	return append([]byte{sealVersion}, aad...)
}
