package storagetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableAuditTests = []durableTest{
	{"Audit/AppendList", durTestAuditAppendList},
	{"Audit/Duplicate", durTestAuditDuplicate},
	{"Audit/TenantIsolation", durTestAuditTenantIsolation},
	{"Audit/Filter", durTestAuditFilter},
}

// A filter keeps the entries of one actor, one target, an action and the
// actions under it, or all of them at once; LIKE's wildcards in an action
// are plain characters.
func durTestAuditFilter(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	at := durT0
	entry := func(tenant, id, actor, action, target string) storage.AuditEntry {
		at = at.Add(time.Minute)
		e := storage.AuditEntry{TenantID: tenant, ID: id, Actor: actor, Action: action, Target: target, CreatedAt: at}
		durMust(t, s.AppendAudit(t.Context(), e))
		return e
	}
	add := entry("acme", "e1", "alice", "member.add", "org-1")
	roles := entry("acme", "e2", "bob", "member.roles", "org-1")
	bare := entry("acme", "e3", "alice", "member", "org-2")
	members := entry("acme", "e4", "alice", "members.export", "org-1")
	wild := entry("acme", "e5", "bob", "a_b.c", "org-2")
	org := entry("acme", "e6", "bob", "organization.update", "org-2")
	entry("other", "e1", "alice", "member.add", "org-1")
	for _, c := range []struct {
		f    storage.AuditFilter
		want []storage.AuditEntry
	}{
		{storage.AuditFilter{}, []storage.AuditEntry{org, wild, members, bare, roles, add}},
		{storage.AuditFilter{Actor: "alice"}, []storage.AuditEntry{members, bare, add}},
		{storage.AuditFilter{Target: "org-2"}, []storage.AuditEntry{org, wild, bare}},
		{storage.AuditFilter{Action: "member"}, []storage.AuditEntry{bare, roles, add}},
		{storage.AuditFilter{Action: "member.add"}, []storage.AuditEntry{add}},
		{storage.AuditFilter{Action: "a%"}, nil},
		{storage.AuditFilter{Action: "a_b"}, []storage.AuditEntry{wild}},
		{storage.AuditFilter{Action: "axb"}, nil},
		{storage.AuditFilter{Actor: "alice", Target: "org-1", Action: "member"}, []storage.AuditEntry{add}},
		{storage.AuditFilter{Actor: "nobody"}, nil},
	} {
		got, next, err := s.ListAudit(t.Context(), "acme", c.f, storage.Page{})
		durMust(t, err)
		if next != "" {
			t.Errorf("%+v: next = %q after the only page", c.f, next)
		}
		durSame(t, fmt.Sprintf("audit log filtered by %+v", c.f), got, c.want)
	}
}

func durAudit(tenantID, id string, at time.Time) storage.AuditEntry {
	return storage.AuditEntry{
		TenantID:  tenantID,
		ID:        id,
		Actor:     "client-admin",
		Action:    "organization.update",
		Target:    "org-1",
		RequestID: "req-" + id,
		Details:   json.RawMessage(`{"changed":["name","slug"],"old":{"slug":"a"},"note":"caf\u00e9 \"quoted\""}`),
		CreatedAt: at,
	}
}

func durListAudit(t *testing.T, s storage.Store, tenantID string) []storage.AuditEntry {
	t.Helper()
	es, next, err := s.ListAudit(t.Context(), tenantID, storage.AuditFilter{}, storage.Page{})
	durMust(t, err)
	if next != "" {
		t.Errorf("next = %q after the only page", next)
	}
	return es
}

// Entries come back newest first with every field, their details as
// stored; nil details read back as {}.
func durTestAuditAppendList(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	e1 := durAudit("acme", "e1", durT0)
	e2 := durAudit("acme", "e2", durT0.Add(time.Hour))
	e3 := storage.AuditEntry{TenantID: "acme", ID: "e3", Actor: "u1", Action: "member.remove", CreatedAt: durT0.Add(30 * time.Minute)}
	for _, e := range []storage.AuditEntry{e1, e2, e3} {
		durMust(t, s.AppendAudit(t.Context(), e))
	}
	got := durListAudit(t, s, "acme")
	durSame(t, "audit log", got, []storage.AuditEntry{e2, e3, e1})
	if len(got) == 3 {
		var d map[string]any
		if err := json.Unmarshal(got[1].Details, &d); err != nil || d == nil || len(d) != 0 {
			t.Errorf("details of an entry appended without = %q, want {}", got[1].Details)
		}
		if err := json.Unmarshal(got[0].Details, &d); err != nil || d["note"] != "café \"quoted\"" {
			t.Errorf("details = %q, want them as appended", got[0].Details)
		}
	}
}

func durTestAuditDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	e := durAudit("acme", "e1", durT0)
	durMust(t, s.AppendAudit(t.Context(), e))
	dup := durAudit("acme", "e1", durT0.Add(time.Hour))
	dup.Action = "forged"
	durWantErr(t, "second entry e1", s.AppendAudit(t.Context(), dup), storage.ErrAlreadyExists)
	durSame(t, "audit log after refused duplicate", durListAudit(t, s, "acme"), []storage.AuditEntry{e})
}

func durTestAuditTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	ea := durAudit("a", "e1", durT0)
	eb := durAudit("b", "e1", durT0)
	eb.Action = "b's action"
	for _, e := range []storage.AuditEntry{ea, eb, durAudit("a", "only-a", durT0.Add(time.Hour))} {
		durMust(t, s.AppendAudit(t.Context(), e))
	}
	durSame(t, "b's audit log", durListAudit(t, s, "b"), []storage.AuditEntry{eb})
	if es := durListAudit(t, s, "nobody"); len(es) != 0 {
		t.Errorf("audit log of a missing tenant: %+v", es)
	}
}
