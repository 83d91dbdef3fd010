package keys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the length of the master key in bytes (AES-256).
const MasterKeySize = 32

// MasterKeyFile is the name of the generated master key inside the data dir.
const MasterKeyFile = "master.key"

// errMasterKeyFormat never quotes the input: it is a secret, even when malformed.
var errMasterKeyFormat = errors.New("keys: master key must be 32 bytes given as base64 " +
	"(44 characters, e.g. the output of `openssl rand -base64 32`) or as 64 hex characters")

// ParseMasterKey decodes a master key given as base64 (standard or URL
// alphabet, padded or not) or as 64 hex characters. Surrounding white space
// is ignored.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	// Hex first: 64 hex characters are also valid base64 (of 48 bytes).
	if len(s) == 2*MasterKeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding,
		base64.RawStdEncoding, base64.RawURLEncoding,
	} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == MasterKeySize {
			return key, nil
		}
	}
	return nil, errMasterKeyFormat
}

// LoadOrCreateMasterKey reads {dataDir}/master.key. When the file does not
// exist it generates a random key, saves it base64-encoded with mode 0600
// (creating dataDir with mode 0700) and reports created, so that the caller
// can tell the operator to back it up: without it, the sealed data is lost.
//
// Two processes starting at once on an empty data dir end up with the same
// key: the file appears atomically (a hard link of a complete temporary
// file), and the loser of the race reads the winner's key.
func LoadOrCreateMasterKey(dataDir string) (key []byte, created bool, err error) {
	path := filepath.Join(dataDir, MasterKeyFile)
	key, err = readMasterKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}

	key = make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("keys: generate master key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("keys: create data dir: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, MasterKeyFile+".tmp-*") // mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("keys: write master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600) // CreateTemp documents 0600; do not depend on it
	}
	if err != nil {
		return nil, false, fmt.Errorf("keys: write master key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first: use that one.
			key, err = readMasterKey(path)
			return key, false, err
		}
		return nil, false, fmt.Errorf("keys: write master key: %w", err)
	}
	return key, true, nil
}

func readMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("keys: read master key: %w", err)
	}
	key, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}
