package keys

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s := newTestSealer(t)
	plain := []byte("private key material")
	aad := []byte("tenant/kid")

	sealed, err := s.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if sealed[0] != sealVersion {
		t.Errorf("version byte %d, want %d", sealed[0], sealVersion)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := s.Open(sealed, aad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := s.Seal(plain, aad)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of the same value are equal: nonce not random")
	}

	// The same key given again opens it; it is derived, not stored.
	same, err := NewSealer(s.master)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := same.Open(sealed, aad); err != nil {
		t.Errorf("same master key: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	s := newTestSealer(t)
	aad := []byte("tenant/kid")
	sealed, _ := s.Seal([]byte("secret"), aad)

	fails := func(name string, s *Sealer, sealed, aad []byte) {
		t.Helper()
		if _, err := s.Open(sealed, aad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
	fails("wrong master key", newTestSealer(t), sealed, aad)
	fails("wrong aad", s, sealed, []byte("tenant/other"))
	fails("no aad", s, sealed, nil)
	fails("empty", s, nil, aad)
	fails("truncated", s, sealed[:len(sealed)-1], aad)
	fails("header only", s, sealed[:13], aad)
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 0x01
		fails("tampered", s, tampered, aad)
	}
}

func FuzzOpen(f *testing.F) {
	s, _ := NewSealer(make([]byte, 32))
	sealed, _ := s.Seal([]byte("x"), nil)
	f.Add(sealed)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := s.Open(b, []byte("aad")); err == nil {
			t.Fatal("opened a value sealed with other aad")
		}
	})
}

func TestNewSealerKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("accepted a %d-byte master key", n)
		}
	}
}

func TestDeriveKey(t *testing.T) {
	master := randomKey(t)
	s1, _ := NewSealer(master)
	s2, _ := NewSealer(master)
	other := newTestSealer(t)

	csrf := s1.DeriveKey("csrf")
	if len(csrf) != 32 {
		t.Fatalf("len %d, want 32", len(csrf))
	}
	if !bytes.Equal(csrf, s2.DeriveKey("csrf")) {
		t.Error("same master and purpose gave different keys")
	}
	if bytes.Equal(csrf, s1.DeriveKey("cookies")) {
		t.Error("different purposes gave the same key")
	}
	if bytes.Equal(csrf, other.DeriveKey("csrf")) {
		t.Error("different master keys gave the same key")
	}
	if bytes.Equal(csrf, master) {
		t.Error("derived key is the master key")
	}
	// No purpose reaches the seal key.
	if bytes.Equal(s1.DeriveKey("../seal/v1"), s1.derive(sealInfo)) || bytes.Equal(s1.DeriveKey(""), s1.derive(sealInfo)) {
		t.Error("a purpose derived the seal key")
	}
}
