package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Usage counters (DESIGN §5 "Billing"): token counts that writers add to
// from any number of replicas, and monthly active users recorded
// idempotently.
var durableUsageTests = []durableTest{
	{"Usage/AddAndList", durTestUsageAddAndList},
	{"Usage/ActiveUsers", durTestUsageActiveUsers},
	{"Usage/Concurrent", durTestUsageConcurrent},
	{"Usage/MissingOrganization", durTestUsageMissingOrg},
	{"Usage/TenantIsolation", durTestUsageTenantIsolation},
}

func durUsage(t *testing.T, s storage.Store, tenantID, orgID, month string) []storage.UsageCount {
	t.Helper()
	u, err := s.ListUsage(t.Context(), tenantID, orgID, month, month)
	durMust(t, err)
	return u
}

func durActive(t *testing.T, s storage.Store, tenantID, orgID, month string) map[string]int {
	t.Helper()
	n, err := s.CountActiveUsers(t.Context(), tenantID, orgID, month, month)
	durMust(t, err)
	return n
}

func durTokens(tenantID, orgID, clientID, month string, n int64) storage.UsageCount {
	return storage.UsageCount{TenantID: tenantID, OrganizationID: orgID, ClientID: clientID, Month: month, Tokens: n}
}

// Counts add up across calls and within one (a key given twice), months
// are listed by range, by month then client, and a count of zero adds
// nothing.
func durTestUsageAddAndList(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	ctx := t.Context()
	if storage.UsageMonth(time.Date(2025, 12, 31, 23, 30, 0, 0, time.FixedZone("-01", -3600))) != "2026-01" {
		t.Errorf("UsageMonth does not use UTC")
	}
	durMust(t, s.AddUsage(ctx, []storage.UsageCount{
		durTokens("acme", "o1", "c2", "2025-03", 2),
		durTokens("acme", "o1", "c1", "2025-03", 1),
		durTokens("acme", "o1", "c1", "2025-03", 4),
		durTokens("acme", "o1", "c1", "2025-01", 10),
		durTokens("acme", "o1", "c3", "2025-03", 0),
		durTokens("acme", "", "c1", "2025-03", 3),
	}, nil))
	durMust(t, s.AddUsage(ctx, []storage.UsageCount{durTokens("acme", "o1", "c1", "2025-03", 100)}, nil))
	durMust(t, s.AddUsage(ctx, nil, nil))

	got, err := s.ListUsage(ctx, "acme", "o1", "2025-01", "2025-12")
	durMust(t, err)
	durSame(t, "o1's usage in 2025", got, []storage.UsageCount{
		durTokens("acme", "o1", "c1", "2025-01", 10),
		durTokens("acme", "o1", "c1", "2025-03", 105),
		durTokens("acme", "o1", "c2", "2025-03", 2),
	})
	got, err = s.ListUsage(ctx, "acme", "o1", "2025-02", "2025-03")
	durMust(t, err)
	durSame(t, "o1's usage from February", got, []storage.UsageCount{
		durTokens("acme", "o1", "c1", "2025-03", 105),
		durTokens("acme", "o1", "c2", "2025-03", 2),
	})
	got, err = s.ListUsage(ctx, "acme", "o1", "2025-04", "2025-12")
	durMust(t, err)
	durSame(t, "o1's usage after March", got, []storage.UsageCount(nil))
	durSame(t, "tenant-level usage", durUsage(t, s, "acme", "", "2025-03"), []storage.UsageCount{durTokens("acme", "", "c1", "2025-03", 3)})
}

func durTestUsageActiveUsers(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	ctx := t.Context()
	au := func(org, month, user string) storage.ActiveUser {
		return storage.ActiveUser{TenantID: "acme", OrganizationID: org, Month: month, UserID: user}
	}
	durMust(t, s.AddUsage(ctx, nil, []storage.ActiveUser{
		au("o1", "2025-03", "u1"), au("o1", "2025-03", "u2"), au("o1", "2025-03", "u1"),
		au("o1", "2025-04", "u1"), au("o2", "2025-03", "u3"),
	}))
	// Recorded again by another replica: still counted once.
	durMust(t, s.AddUsage(ctx, nil, []storage.ActiveUser{au("o1", "2025-03", "u2"), au("o1", "2025-04", "u3")}))
	got, err := s.CountActiveUsers(ctx, "acme", "o1", "2025-01", "2025-12")
	durMust(t, err)
	durSame(t, "o1's active users", got, map[string]int{"2025-03": 2, "2025-04": 2})
	durSame(t, "o1's active users in April", durActive(t, s, "acme", "o1", "2025-04"), map[string]int{"2025-04": 2})
	durSame(t, "o2's active users", durActive(t, s, "acme", "o2", "2025-03"), map[string]int{"2025-03": 1})
	durSame(t, "active users of a month without any", durActive(t, s, "acme", "o1", "2025-05"), map[string]int{})
}

// Concurrent writers of overlapping batches (replicas flushing at once)
// add up exactly.
func durTestUsageConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	const rounds = 5
	errs := durRace(func(i int) error {
		for r := range rounds {
			// Each racer lists the keys in its own order.
			counts := []storage.UsageCount{
				durTokens("acme", "o1", "c1", "2025-03", 1),
				durTokens("acme", "o2", "c1", "2025-03", 2),
				durTokens("acme", "", "c9", "2025-03", 3),
			}
			if i%2 == 1 {
				counts[0], counts[2] = counts[2], counts[0]
			}
			users := []storage.ActiveUser{
				{TenantID: "acme", OrganizationID: "o1", Month: "2025-03", UserID: fmt.Sprintf("u%d", i)},
				{TenantID: "acme", OrganizationID: "o1", Month: "2025-03", UserID: fmt.Sprintf("u%d", r)},
			}
			if err := s.AddUsage(t.Context(), counts, users); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	n := int64(durRacers * rounds)
	durSame(t, "o1's usage", durUsage(t, s, "acme", "o1", "2025-03"), []storage.UsageCount{durTokens("acme", "o1", "c1", "2025-03", n)})
	durSame(t, "o2's usage", durUsage(t, s, "acme", "o2", "2025-03"), []storage.UsageCount{durTokens("acme", "o2", "c1", "2025-03", 2*n)})
	durSame(t, "tenant-level usage", durUsage(t, s, "acme", "", "2025-03"), []storage.UsageCount{durTokens("acme", "", "c9", "2025-03", 3*n)})
	// Users u0..u7 (racers), u0..u4 (rounds) overlap: 8 distinct.
	durSame(t, "active users", durActive(t, s, "acme", "o1", "2025-03"), map[string]int{"2025-03": max(durRacers, rounds)})
}

// The usage of an organization that no longer exists (deleted between
// the token and the flush), or of a missing tenant, is dropped, and the
// rest of the batch is stored.
func durTestUsageMissingOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durMust(t, s.AddUsage(t.Context(), []storage.UsageCount{
		durTokens("acme", "ghost", "c1", "2025-03", 4),
		durTokens("acme", "o1", "c1", "2025-03", 1),
		durTokens("nowhere", "", "c1", "2025-03", 1),
	}, []storage.ActiveUser{
		{TenantID: "acme", OrganizationID: "ghost", Month: "2025-03", UserID: "u1"},
		{TenantID: "acme", OrganizationID: "o1", Month: "2025-03", UserID: "u1"},
	}))
	durSame(t, "o1's usage", durUsage(t, s, "acme", "o1", "2025-03"), []storage.UsageCount{durTokens("acme", "o1", "c1", "2025-03", 1)})
	if u := durUsage(t, s, "acme", "ghost", "2025-03"); len(u) != 0 {
		t.Errorf("usage of a missing organization was stored: %+v", u)
	}
	if u := durUsage(t, s, "nowhere", "", "2025-03"); len(u) != 0 {
		t.Errorf("usage of a missing tenant was stored: %+v", u)
	}
	durSame(t, "active users of a missing organization", durActive(t, s, "acme", "ghost", "2025-03"), map[string]int{})
	durSame(t, "o1's active users", durActive(t, s, "acme", "o1", "2025-03"), map[string]int{"2025-03": 1})
}

func durTestUsageTenantIsolation(t *testing.T, s storage.Store) {
	for _, tn := range []string{"a", "b"} {
		durTenant(t, s, tn)
		durOrg(t, s, tn, "o1", "one")
	}
	durMust(t, s.AddUsage(t.Context(), []storage.UsageCount{durTokens("a", "o1", "c1", "2025-03", 3)},
		[]storage.ActiveUser{{TenantID: "a", OrganizationID: "o1", Month: "2025-03", UserID: "u1"}}))
	if u := durUsage(t, s, "b", "o1", "2025-03"); len(u) != 0 {
		t.Errorf("b sees a's usage: %+v", u)
	}
	durSame(t, "b's active users", durActive(t, s, "b", "o1", "2025-03"), map[string]int{})
	durSame(t, "a's usage", durUsage(t, s, "a", "o1", "2025-03"), []storage.UsageCount{durTokens("a", "o1", "c1", "2025-03", 3)})
}
