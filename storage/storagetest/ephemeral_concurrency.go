package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// ephemeralRacers is how many goroutines contend for one key. Enough to
// interleave on any machine, few enough for a Redis connection pool.
const ephemeralRacers = 32

var ephemeralConcurrencyTests = []ephemeralTest{
	{"Concurrent/Create", ephTestConcurrentCreate},
	{"Concurrent/Swap", ephTestConcurrentSwap},
	{"Concurrent/Incr", ephTestConcurrentIncr},
}

// ephRace runs fn(i) on ephemeralRacers goroutines released at once.
func ephRace(fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range ephemeralRacers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func ephTestConcurrentCreate(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	errs := make([]error, ephemeralRacers)
	ephRace(func(i int) {
		errs[i] = h.Store.Create(ctx, "k", fmt.Appendf(nil, "v%d", i), time.Minute)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("Create succeeded for both racer %d and racer %d", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("racer %d: Create = %v, want nil or ErrAlreadyExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no Create succeeded")
	}
	ephWant(t, h, "k", fmt.Sprintf("v%d", winner))
}

// ephTestConcurrentSwap checks that Swaps form one chain: each replaced
// exactly the value that one other Swap (or the original Set) wrote, so
// exactly one racer saw the original and no value was seen twice. This is
// what makes RedeemCode single-use.
func ephTestConcurrentSwap(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("original"), time.Minute))
	olds := make([]string, ephemeralRacers)
	errs := make([]error, ephemeralRacers)
	ephRace(func(i int) {
		var old []byte
		old, errs[i] = h.Store.Swap(ctx, "k", fmt.Appendf(nil, "fresh%d", i))
		olds[i] = string(old)
	})
	seen := map[string]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racer %d: Swap = %v", i, err)
		}
		seen[olds[i]]++
	}
	final, err := h.Store.Get(ctx, "k")
	ephMust(t, err)
	seen[string(final)]++
	if seen["original"] != 1 {
		t.Errorf("%d racers saw the original value, want exactly 1", seen["original"])
	}
	var wrong []string
	for i := range ephemeralRacers {
		v := fmt.Sprintf("fresh%d", i)
		if seen[v] != 1 {
			wrong = append(wrong, fmt.Sprintf("%s×%d", v, seen[v]))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("each value must be replaced (or be left) exactly once; got %v", wrong)
	}
}

func ephTestConcurrentIncr(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	counts := make([]int64, ephemeralRacers)
	errs := make([]error, ephemeralRacers)
	ephRace(func(i int) {
		counts[i], _, errs[i] = h.Store.Incr(ctx, "n", 1, time.Minute)
	})
	got := map[int64]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racer %d: Incr = %v", i, err)
		}
		if got[counts[i]] {
			t.Errorf("count %d returned twice", counts[i])
		}
		got[counts[i]] = true
	}
	for n := int64(1); n <= ephemeralRacers; n++ {
		if !got[n] {
			t.Errorf("no racer got count %d", n)
		}
	}
}
