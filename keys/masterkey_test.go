package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestParseMasterKey(t *testing.T) {
	key := make([]byte, MasterKeySize)
	for i := range key {
		key[i] = byte(i*7 + 250) // has bytes that differ between std and URL base64
	}
	good := map[string]string{
		"base64 std":        base64.StdEncoding.EncodeToString(key),
		"base64 url":        base64.URLEncoding.EncodeToString(key),
		"base64 raw std":    base64.RawStdEncoding.EncodeToString(key),
		"base64 raw url":    base64.RawURLEncoding.EncodeToString(key),
		"hex":               hex.EncodeToString(key),
		"hex upper":         strings.ToUpper(hex.EncodeToString(key)),
		"surrounding space": "  " + base64.StdEncoding.EncodeToString(key) + "\n",
	}
	for name, in := range good {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMasterKey(in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key) {
				t.Fatalf("got %x, want %x", got, key)
			}
		})
	}

	bad := map[string]string{
		"empty":         "",
		"short base64":  base64.StdEncoding.EncodeToString(key[:16]),
		"long base64":   base64.StdEncoding.EncodeToString(append(key, 1)),
		"short hex":     hex.EncodeToString(key)[:62],
		"hex 64 bad":    strings.Repeat("g", 64),
		"passphrase":    "correct horse battery staple",
		"hex of 48":     hex.EncodeToString(make([]byte, 48)),
		"base64 inside": "key=" + base64.StdEncoding.EncodeToString(key),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseMasterKey(in)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, "base64") || !strings.Contains(msg, "hex") || !strings.Contains(msg, "32 bytes") {
				t.Errorf("error does not name the expected format: %s", msg)
			}
			if in != "" && strings.Contains(msg, in) {
				t.Errorf("error echoes the key: %s", msg)
			}
		})
	}
}

func FuzzParseMasterKey(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Add(hex.EncodeToString(make([]byte, 32)))
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseMasterKey(s)
		if err == nil && len(key) != MasterKeySize {
			t.Fatalf("accepted a %d-byte key", len(key))
		}
	})
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "orgid-data")

	key, created, err := LoadOrCreateMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != MasterKeySize {
		t.Fatalf("created=%v len=%d, want a new 32-byte key", created, len(key))
	}
	fi, err := os.Stat(filepath.Join(dir, MasterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %o, want 600", mode)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mode := di.Mode().Perm(); mode != 0o700 {
		t.Errorf("data dir mode %o, want 700", mode)
	}
	b, _ := os.ReadFile(filepath.Join(dir, MasterKeyFile))
	if fromFile, err := ParseMasterKey(string(b)); err != nil || !bytes.Equal(fromFile, key) {
		t.Errorf("file holds %q, not the key in base64 (%v)", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d files, want only %s (temporary file left over?)", len(entries), MasterKeyFile)
	}

	again, created, err := LoadOrCreateMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(again, key) {
		t.Fatalf("second load: created=%v, same key=%v", created, bytes.Equal(again, key))
	}
}

func TestLoadOrCreateMasterKeyRace(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	createdCount := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key, created, err := LoadOrCreateMasterKey(dir)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			keys[i] = key
			if created {
				createdCount++
			}
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Errorf("%d callers created the key, want 1", createdCount)
	}
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("callers got different keys")
		}
	}
}

func TestLoadMasterKeyBadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, MasterKeyFile), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadOrCreateMasterKey(dir)
	if err == nil || !strings.Contains(err.Error(), MasterKeyFile) {
		t.Fatalf("err = %v, want an error naming the file", err)
	}
}
