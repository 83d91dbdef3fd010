package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// The mail outbox (DESIGN §3, "Invitations"): messages enqueued with the
// change that caused them, claimed by leases so that of any number of
// senders exactly one sends each, finished with their outcome, listed
// newest first.
var durableMailTests = slices.Concat([]durableTest{
	{"Mail/EnqueueGet", durTestMailEnqueueGet},
	{"Mail/EnqueueDuplicate", durTestMailDuplicate},
	{"Mail/Claim", durTestMailClaim},
	{"Mail/ClaimLeaseExpires", durTestMailClaimLease},
	{"Mail/ClaimConcurrent", durTestMailClaimConcurrent},
	{"Mail/Finish", durTestMailFinish},
	{"Mail/FinishRetry", durTestMailFinishRetry},
	{"Mail/FinishErrors", durTestMailFinishErrors},
	{"Mail/TenantIsolation", durTestMailTenantIsolation},
	{"Mail/CountPending", durTestMailCountPending},
}, durPagedList[storage.MailMessage]{
	name:        "Mail",
	newestFirst: true,
	add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
		durMust(t, s.EnqueueMail(t.Context(), durMail(tenant, id, at)))
	},
	list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.MailMessage, string, error) {
		return s.ListMail(t.Context(), tenant, p)
	},
	key: func(m storage.MailMessage) string { return m.ID },
}.tests())

// durMail is a new pending message created and due at created, with
// every field a new message has set.
func durMail(tenantID, id string, created time.Time) storage.MailMessage {
	return storage.MailMessage{
		TenantID:      tenantID,
		ID:            id,
		To:            "Ada <ada+" + id + "@example.test>",
		Subject:       "Verify your email " + id,
		Kind:          "verify_email",
		BodySealed:    []byte("sealed:\x00\xff" + id),
		Status:        storage.MailPending,
		NextAttemptAt: created,
		CreatedAt:     created,
	}
}

func durEnqueue(t *testing.T, s storage.Store, tenantID, id string, created time.Time) storage.MailMessage {
	t.Helper()
	m := durMail(tenantID, id, created)
	durMust(t, s.EnqueueMail(t.Context(), m))
	return m
}

func durGetMail(t *testing.T, s storage.Store, tenantID, id string) storage.MailMessage {
	t.Helper()
	m, err := s.GetMail(t.Context(), tenantID, id)
	durMust(t, err)
	return m
}

func durClaim(t *testing.T, s storage.Store, now, leaseUntil time.Time, limit int) []storage.MailMessage {
	t.Helper()
	ms, err := s.ClaimMail(t.Context(), now, leaseUntil, limit)
	durMust(t, err)
	return ms
}

// durMailIDs returns "tenant/id" of each message, in order.
func durMailIDs(ms []storage.MailMessage) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.TenantID + "/" + m.ID
	}
	return ids
}

// A message reads back whole, in whatever state it was written; an
// unknown ID is ErrNotFound.
func durTestMailEnqueueGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	m := durEnqueue(t, s, "acme", "m1", durT0)
	durSame(t, "new message", durGetMail(t, s, "acme", "m1"), m)

	// Every field set, as a message written by an import would be.
	full := durMail("acme", "m2", durT0.Add(time.Second))
	full.Kind, full.Attempts, full.LastError = "password_reset", 2, "dial tcp: connection refused"
	full.NextAttemptAt = durT0.Add(time.Hour)
	full.LeaseUntil = durT0.Add(time.Minute)
	durMust(t, s.EnqueueMail(t.Context(), full))
	durSame(t, "message with every field", durGetMail(t, s, "acme", "m2"), full)

	_, err := s.GetMail(t.Context(), "acme", "nope")
	durWantErr(t, "GetMail of an unknown ID", err, storage.ErrNotFound)
}

// A taken ID is ErrAlreadyExists and the first message stays; a missing
// tenant is ErrNotFound.
func durTestMailDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	m := durEnqueue(t, s, "acme", "m1", durT0)
	again := durMail("acme", "m1", durT0.Add(time.Hour))
	again.Subject = "another"
	durWantErr(t, "second message m1", s.EnqueueMail(t.Context(), again), storage.ErrAlreadyExists)
	durSame(t, "the first message", durGetMail(t, s, "acme", "m1"), m)
	durWantErr(t, "message of a missing tenant", s.EnqueueMail(t.Context(), durMail("nope", "m1", durT0)), storage.ErrNotFound)
}

// ClaimMail takes the due, unleased, pending messages of every tenant,
// oldest due first and at most limit, and leases them: a second claim
// does not take them again. Messages not yet due, and sent ones, are
// never claimed.
func durTestMailClaim(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	now := durT0.Add(time.Hour)
	lease := now.Add(5 * time.Minute)
	durEnqueue(t, s, "a", "m3", durT0.Add(30*time.Minute))
	durEnqueue(t, s, "b", "m1", durT0)
	durEnqueue(t, s, "a", "m2", durT0.Add(10*time.Minute))
	durEnqueue(t, s, "a", "due-now", now)
	durEnqueue(t, s, "a", "later", now.Add(time.Microsecond))
	durEnqueue(t, s, "b", "sent", durT0)
	durMust(t, s.FinishMail(t.Context(), "b", "sent", storage.MailSent, durT0, time.Time{}, ""))

	got := durClaim(t, s, now, lease, 2)
	durSame(t, "first claim", durMailIDs(got), []string{"b/m1", "a/m2"})
	want := durGetMail(t, s, "b", "m1")
	if !want.LeaseUntil.Equal(lease) {
		t.Errorf("claimed message's lease = %v, want %v", want.LeaseUntil, lease)
	}
	durSame(t, "claimed message as returned", got[0], want)

	got = durClaim(t, s, now, lease, 10)
	durSame(t, "second claim", durMailIDs(got), []string{"a/m3", "a/due-now"})
	for _, m := range got {
		if !m.LeaseUntil.Equal(lease) || m.Status != storage.MailPending {
			t.Errorf("claimed %s: lease %v, status %s; want %v, pending", m.ID, m.LeaseUntil, m.Status, lease)
		}
	}
	if got := durClaim(t, s, now, lease, 10); len(got) != 0 {
		t.Errorf("third claim took %v, want nothing", durMailIDs(got))
	}
	// Due a microsecond later.
	durSame(t, "claim a microsecond later", durMailIDs(durClaim(t, s, now.Add(time.Microsecond), lease, 10)), []string{"a/later"})
	if got := durClaim(t, s, now, lease, 0); len(got) != 0 {
		t.Errorf("claim with limit 0 took %v", durMailIDs(got))
	}
	if m := durGetMail(t, s, "b", "sent"); m.Status != storage.MailSent || !m.LeaseUntil.IsZero() {
		t.Errorf("sent message after claims: %+v", m)
	}
}

// A lease that has run out (a sender that died mid-attempt) lets the
// message be claimed again; one that has not, not.
func durTestMailClaimLease(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durEnqueue(t, s, "acme", "m1", durT0)
	lease := durT0.Add(time.Minute)
	durSame(t, "first claim", durMailIDs(durClaim(t, s, durT0, lease, 10)), []string{"acme/m1"})
	// A lease that ends at now still holds; one that ended before, not.
	for _, now := range []time.Time{durT0, lease.Add(-time.Microsecond), lease} {
		if got := durClaim(t, s, now, lease.Add(time.Hour), 10); len(got) != 0 {
			t.Errorf("claim at %v, before the lease ran out, took %v", now, durMailIDs(got))
		}
	}
	now := lease.Add(time.Microsecond)
	got := durClaim(t, s, now, now.Add(time.Hour), 10)
	durSame(t, "claim once the lease ran out", durMailIDs(got), []string{"acme/m1"})
	if len(got) == 1 && !got[0].LeaseUntil.Equal(now.Add(time.Hour)) {
		t.Errorf("re-claimed lease = %v, want %v", got[0].LeaseUntil, now.Add(time.Hour))
	}
}

// Of concurrent claimers each message goes to exactly one, and every due
// message goes to one of them or to a claim after them.
func durTestMailClaimConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	const n = 24
	for i := range n {
		tn := []string{"a", "b"}[i%2]
		durEnqueue(t, s, tn, "m"+string(rune('a'+i)), durT0.Add(time.Duration(i)*time.Second))
	}
	now, lease := durT0.Add(time.Hour), durT0.Add(2*time.Hour)
	claimed := make([][]storage.MailMessage, durRacers)
	errs := durRace(func(i int) error {
		var err error
		claimed[i], err = s.ClaimMail(t.Context(), now, lease, n/4)
		return err
	})
	seen := map[string]int{}
	for i, err := range errs {
		durMust(t, err)
		for _, id := range durMailIDs(claimed[i]) {
			seen[id]++
		}
	}
	for _, id := range durMailIDs(durClaim(t, s, now, lease, n)) {
		seen[id]++
	}
	if len(seen) != n {
		t.Errorf("%d messages claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}

// Sent and logged messages keep their SentAt and lose their lease, and
// are done: a second outcome is ErrConflict.
func durTestMailFinish(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	for _, st := range []storage.MailStatus{storage.MailSent, storage.MailLogged} {
		id := "m-" + string(st)
		m := durEnqueue(t, s, "acme", id, durT0)
		lease := durT0.Add(time.Minute)
		durClaim(t, s, durT0, lease, 10)
		at := durT0.Add(time.Second)
		durMust(t, s.FinishMail(t.Context(), "acme", id, st, at, time.Time{}, ""))
		m.Status, m.SentAt = st, at
		durSame(t, string(st)+" message", durGetMail(t, s, "acme", id), m)

		for _, again := range []storage.MailStatus{storage.MailSent, storage.MailLogged, storage.MailPending, storage.MailFailed} {
			err := s.FinishMail(t.Context(), "acme", id, again, at.Add(time.Hour), at.Add(time.Hour), "late")
			durWantErr(t, string(st)+" message finished "+string(again), err, storage.ErrConflict)
		}
		durSame(t, string(st)+" message after refused outcomes", durGetMail(t, s, "acme", id), m)
		if got := durClaim(t, s, durT0.Add(time.Hour), durT0.Add(2*time.Hour), 10); len(got) != 0 {
			t.Errorf("claim after %s took %v", st, durMailIDs(got))
		}
	}
}

// A failed attempt counts, keeps its error and makes the message due at
// the next attempt; giving up counts it too and ends the message.
func durTestMailFinishRetry(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	m := durEnqueue(t, s, "acme", "m1", durT0)
	durClaim(t, s, durT0, durT0.Add(time.Minute), 10)
	next := durT0.Add(10 * time.Minute)
	durMust(t, s.FinishMail(t.Context(), "acme", "m1", storage.MailPending, durT0.Add(time.Second), next, "421 try later"))
	m.Attempts, m.LastError, m.NextAttemptAt = 1, "421 try later", next
	durSame(t, "message after a failed attempt", durGetMail(t, s, "acme", "m1"), m)

	// Not due before next, even though its lease is gone.
	if got := durClaim(t, s, next.Add(-time.Microsecond), next.Add(time.Hour), 10); len(got) != 0 {
		t.Errorf("claim before the next attempt took %v", durMailIDs(got))
	}
	got := durClaim(t, s, next, next.Add(time.Minute), 10)
	durSame(t, "claim at the next attempt", durMailIDs(got), []string{"acme/m1"})
	if len(got) == 1 && (got[0].Attempts != 1 || got[0].LastError != "421 try later") {
		t.Errorf("re-claimed message: %+v", got[0])
	}

	durMust(t, s.FinishMail(t.Context(), "acme", "m1", storage.MailFailed, next.Add(time.Second), time.Time{}, "550 no such user"))
	m.Status, m.Attempts, m.LastError = storage.MailFailed, 2, "550 no such user"
	durSame(t, "message given up on", durGetMail(t, s, "acme", "m1"), m)
	durWantErr(t, "failed message retried",
		s.FinishMail(t.Context(), "acme", "m1", storage.MailPending, next, next.Add(time.Hour), "again"), storage.ErrConflict)
	if got := durClaim(t, s, next.Add(time.Hour), next.Add(2*time.Hour), 10); len(got) != 0 {
		t.Errorf("claim after giving up took %v", durMailIDs(got))
	}
}

// FinishMail of an unknown message is ErrNotFound, whatever the outcome.
func durTestMailFinishErrors(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	for _, st := range []storage.MailStatus{storage.MailSent, storage.MailLogged, storage.MailPending, storage.MailFailed} {
		err := s.FinishMail(t.Context(), "acme", "nope", st, durT0, durT0, "")
		durWantErr(t, "FinishMail("+string(st)+") of an unknown message", err, storage.ErrNotFound)
	}
}

// Another tenant's message is not found, nor finished, nor listed; the
// same ID is free in every tenant.
func durTestMailTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	ma := durEnqueue(t, s, "a", "m1", durT0)
	mb := durEnqueue(t, s, "b", "m1", durT0.Add(time.Second))
	durEnqueue(t, s, "a", "only-a", durT0)

	_, err := s.GetMail(t.Context(), "b", "only-a")
	durWantErr(t, "a's message read in b", err, storage.ErrNotFound)
	durWantErr(t, "a's message finished in b",
		s.FinishMail(t.Context(), "b", "only-a", storage.MailSent, durT0, time.Time{}, ""), storage.ErrNotFound)
	durMust(t, s.FinishMail(t.Context(), "b", "m1", storage.MailSent, durT0.Add(time.Minute), time.Time{}, ""))
	durSame(t, "a's m1 after b's was sent", durGetMail(t, s, "a", "m1"), ma)
	mb.Status, mb.SentAt = storage.MailSent, durT0.Add(time.Minute)
	durSame(t, "b's m1", durGetMail(t, s, "b", "m1"), mb)

	ms, _, err := s.ListMail(t.Context(), "b", storage.Page{})
	durMust(t, err)
	durSame(t, "b's outbox", ms, []storage.MailMessage{mb})
}

// durTestMailCountPending: the backlog counts pending messages of every
// tenant, leased ones too, and none that are done.
func durTestMailCountPending(t *testing.T, s storage.Store) {
	count := func() int {
		t.Helper()
		n, err := s.CountPendingMail(t.Context())
		durMust(t, err)
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("empty outbox: %d pending", n)
	}
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	for _, id := range []string{"m1", "m2", "sent", "logged", "failed"} {
		durEnqueue(t, s, "a", id, durT0)
	}
	durEnqueue(t, s, "b", "m1", durT0)
	durMust(t, s.FinishMail(t.Context(), "a", "sent", storage.MailSent, durT0, time.Time{}, ""))
	durMust(t, s.FinishMail(t.Context(), "a", "logged", storage.MailLogged, durT0, time.Time{}, ""))
	durMust(t, s.FinishMail(t.Context(), "a", "failed", storage.MailFailed, durT0, time.Time{}, "gave up"))
	durClaim(t, s, durT0.Add(time.Hour), durT0.Add(2*time.Hour), 1) // leased, still pending
	if n := count(); n != 3 {
		t.Fatalf("pending: %d, want 3 (a/m1, a/m2, b/m1)", n)
	}
}
