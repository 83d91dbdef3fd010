package storagetest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/orgid/orgid/storage"
)

var durableMiscTests = []durableTest{
	{"EnsureMeta/FirstValueWins", durTestEnsureMeta},
	{"EnsureMeta/Concurrent", durTestEnsureMetaConcurrent},
	{"Ping", durTestPing},
}

func durTestEnsureMeta(t *testing.T, s storage.Store) {
	first := []byte{0x00, 0x01, 0xfe, 0xff}
	got, err := s.EnsureMeta(t.Context(), "master-key-check", first)
	durMust(t, err)
	if !bytes.Equal(got, first) {
		t.Errorf("first EnsureMeta = %x, want %x", got, first)
	}
	got, err = s.EnsureMeta(t.Context(), "master-key-check", []byte("second"))
	durMust(t, err)
	if !bytes.Equal(got, first) {
		t.Errorf("second EnsureMeta = %x, want the first value %x", got, first)
	}
	got, err = s.EnsureMeta(t.Context(), "other", []byte("x"))
	durMust(t, err)
	if string(got) != "x" {
		t.Errorf("EnsureMeta(other) = %q, want x", got)
	}
}

// Replicas starting together each propose a value; all must agree on one.
func durTestEnsureMetaConcurrent(t *testing.T, s storage.Store) {
	got := make([][]byte, durRacers)
	errs := durRace(func(i int) error {
		var err error
		got[i], err = s.EnsureMeta(t.Context(), "k", []byte(fmt.Sprint("value-", i)))
		return err
	})
	for i, err := range errs {
		durMust(t, err)
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("racer %d got %q, racer 0 got %q", i, got[i], got[0])
		}
	}
	if !bytes.HasPrefix(got[0], []byte("value-")) {
		t.Errorf("stored %q, want one of the proposed values", got[0])
	}
}

func durTestPing(t *testing.T, s storage.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
