package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/redisstore"
	"github.com/orgid/orgid/storage/redisstore/redistest"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestConformance(t *testing.T) {
	redistest.URL(t) // one skip for the suite, not one per subtest
	storagetest.RunEphemeral(t, func(t *testing.T) storagetest.EphemeralHarness {
		s, advance := redistest.New(t)
		return storagetest.EphemeralHarness{Store: s, Advance: advance}
	})
}

func TestNewUnreachable(t *testing.T) {
	// Port 1 on loopback: nothing listens there, so the dial is refused at once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redisstore.New(ctx, "redis://127.0.0.1:1/0")
	if err == nil {
		s.Close()
		t.Fatal("New on a closed port succeeded")
	}
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("New on a closed port = %v, want ErrUnavailable", err)
	}
}

func TestNewBadURL(t *testing.T) {
	_, err := redisstore.New(context.Background(), "http://127.0.0.1:6379")
	if err == nil || errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("New with a non-redis URL = %v, want a configuration error", err)
	}
}

func TestClosedIsUnavailable(t *testing.T) {
	s, _ := redistest.New(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Ping(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Ping after Close = %v, want ErrUnavailable", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Get after Close = %v, want ErrUnavailable", err)
	}
	if _, _, err := s.Incr(ctx, "n", 1, time.Minute); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Incr after Close = %v, want ErrUnavailable", err)
	}
}

func TestPrefixesIsolate(t *testing.T) {
	a, _ := redistest.New(t)
	b, advanceB := redistest.New(t)
	ctx := context.Background()
	if err := a.Set(ctx, "k", []byte("a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("store b sees store a's key: %v", err)
	}
	// Moving b's time leaves a's keys alone.
	advanceB(time.Hour)
	if v, err := a.Get(ctx, "k"); err != nil || string(v) != "a" {
		t.Errorf("a's key after advancing b = %q, %v", v, err)
	}
}
