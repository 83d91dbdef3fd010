package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// DeleteExpired on the onboarding tables: email links go a week after
// they expired (a late click still gets the "link expired" page), outbox
// messages 30 days after they were done; pending messages and
// invitations stay.
var durableOnboardingExpiryTests = []durableTest{
	{"EmailToken/DeleteExpired", durTestEmailTokenDeleteExpired},
	{"Mail/DeleteExpired", durTestMailDeleteExpired},
	{"Invitation/DeleteExpiredKeeps", durTestInvitationDeleteExpiredKeeps},
}

const durDay = 24 * time.Hour

// Of tokens that expired 8 days and 1 day before now, only the first
// goes, used or not; an unexpired one stays. A second run, and runs on
// many replicas at once, change nothing more.
func durTestEmailTokenDeleteExpired(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	now := durT0.Add(30 * durDay)
	add := func(hash string, expires, used time.Time) storage.EmailToken {
		et := durEmailToken("acme", hash, storage.EmailTokenVerify, "u1")
		et.CreatedAt, et.ExpiresAt, et.UsedAt = expires.Add(-time.Hour), expires, used
		durMust(t, s.CreateEmailToken(t.Context(), et))
		return et
	}
	add("old", now.Add(-8*durDay), time.Time{})
	add("old-used", now.Add(-8*durDay), now.Add(-8*durDay-time.Minute))
	recent := add("recent", now.Add(-durDay), time.Time{})
	live := add("live", now.Add(time.Hour), time.Time{})

	for i, err := range durRace(func(int) error { return s.DeleteExpired(t.Context(), now) }) {
		if err != nil {
			t.Errorf("DeleteExpired on racer %d: %v", i, err)
		}
	}
	durMust(t, s.DeleteExpired(t.Context(), now))
	for _, h := range []string{"old", "old-used"} {
		_, err := s.GetEmailToken(t.Context(), "acme", storage.EmailTokenVerify, durHash(h))
		durWantErr(t, "token "+h+" expired 8 days ago", err, storage.ErrNotFound)
	}
	durSame(t, "token expired a day ago", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "recent"), recent)
	durSame(t, "unexpired token", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "live"), live)

	// The one that expired a day ago goes once a week has passed.
	durMust(t, s.DeleteExpired(t.Context(), now.Add(6*durDay+time.Minute)))
	_, err := s.GetEmailToken(t.Context(), "acme", storage.EmailTokenVerify, durHash("recent"))
	durWantErr(t, "token expired 7 days and a minute ago", err, storage.ErrNotFound)
	durSame(t, "token expired less than a week ago", durGetEmailToken(t, s, "acme", storage.EmailTokenVerify, "live"), live)
}

// Messages sent or logged more than 30 days ago go, and failed ones
// created more than 30 days ago; recent ones stay, and pending ones
// stay however old they are.
func durTestMailDeleteExpired(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	now := durT0.Add(100 * durDay)
	add := func(tenant, id string, status storage.MailStatus, created, sent time.Time) storage.MailMessage {
		m := durMail(tenant, id, created)
		m.Status, m.SentAt = status, sent
		if status == storage.MailFailed {
			m.Attempts, m.LastError = 5, "550 no such user"
		}
		durMust(t, s.EnqueueMail(t.Context(), m))
		return m
	}
	gone := []storage.MailMessage{
		add("a", "old-sent", storage.MailSent, now.Add(-40*durDay), now.Add(-31*durDay)),
		add("b", "old-logged", storage.MailLogged, now.Add(-31*durDay), now.Add(-31*durDay)),
		add("a", "old-failed", storage.MailFailed, now.Add(-31*durDay), time.Time{}),
	}
	kept := []storage.MailMessage{
		// Created long ago, but sent recently (after retries).
		add("a", "recent-sent", storage.MailSent, now.Add(-40*durDay), now.Add(-29*durDay)),
		add("b", "recent-logged", storage.MailLogged, now.Add(-time.Hour), now.Add(-time.Hour)),
		add("a", "recent-failed", storage.MailFailed, now.Add(-29*durDay), time.Time{}),
		add("a", "old-pending", storage.MailPending, now.Add(-90*durDay), time.Time{}),
		add("b", "recent-pending", storage.MailPending, now.Add(-time.Minute), time.Time{}),
	}
	// One sent through FinishMail, as the sender does it, long ago.
	durEnqueue(t, s, "b", "finished", now.Add(-60*durDay))
	durMust(t, s.FinishMail(t.Context(), "b", "finished", storage.MailSent, now.Add(-59*durDay), time.Time{}, ""))
	gone = append(gone, storage.MailMessage{TenantID: "b", ID: "finished"})

	for i, err := range durRace(func(int) error { return s.DeleteExpired(t.Context(), now) }) {
		if err != nil {
			t.Errorf("DeleteExpired on racer %d: %v", i, err)
		}
	}
	for _, m := range gone {
		_, err := s.GetMail(t.Context(), m.TenantID, m.ID)
		durWantErr(t, "message "+m.TenantID+"/"+m.ID, err, storage.ErrNotFound)
	}
	for _, m := range kept {
		durSame(t, "message "+m.TenantID+"/"+m.ID, durGetMail(t, s, m.TenantID, m.ID), m)
	}

	// A year on, only the pending messages are left, and are still
	// claimed.
	durMust(t, s.DeleteExpired(t.Context(), now.Add(365*durDay)))
	for _, m := range kept {
		_, err := s.GetMail(t.Context(), m.TenantID, m.ID)
		if m.Status == storage.MailPending {
			durMust(t, err)
		} else {
			durWantErr(t, "message "+m.TenantID+"/"+m.ID+" a year on", err, storage.ErrNotFound)
		}
	}
	claimed := durMailIDs(durClaim(t, s, now, now.Add(time.Minute), 10))
	durSame(t, "claimed after the deletes", claimed, []string{"a/old-pending", "b/recent-pending"})
}

// Invitations are the organization's history: expired, accepted or
// revoked, DeleteExpired leaves them.
func durTestInvitationDeleteExpiredKeeps(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	inv := durInvite(t, s, "acme", "o1", "i1")
	durMust(t, s.DeleteExpired(t.Context(), inv.ExpiresAt.Add(365*durDay)))
	durSame(t, "expired invitation a year on", durGetInvitation(t, s, "acme", "o1", "i1"), inv)
}
