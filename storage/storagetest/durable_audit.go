package storagetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableAuditTests = []durableTest{
	{"Audit/AppendList", durTestAuditAppendList},
	{"Audit/Duplicate", durTestAuditDuplicate},
	{"Audit/TenantIsolation", durTestAuditTenantIsolation},
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
	es, next, err := s.ListAudit(t.Context(), tenantID, storage.Page{})
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
