package manage_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// SetJITRule saves domains and default roles together or not at all.
func TestSetJITRuleIsAtomic(t *testing.T) {
	e := newBillingEnv(t)
	ctx := t.Context()
	must(t, e.store.CreatePermission(ctx, storage.Permission{TenantID: "acme", Name: "read:members", CreatedAt: bt0}))
	must(t, e.store.CreateRole(ctx, storage.Role{TenantID: "acme", ID: "r1", Name: "member", Permissions: []string{"read:members"}, CreatedAt: bt0}))
	must(t, e.store.CreateOrganization(ctx, storage.Organization{TenantID: "acme", ID: "o2", Name: "Globex", Slug: "globex", CreatedAt: bt0}))
	a := manage.Actor{ID: "test"}
	if _, err := e.svc.SetJITEmailDomains(ctx, "acme", a, "o2", []string{"globex.test"}); err != nil {
		t.Fatal(err)
	}

	got, err := e.svc.SetJITRule(ctx, "acme", a, "o1", []string{"ACME.test"}, []string{"member"})
	if err != nil || !reflect.DeepEqual(got.EmailDomains, []string{"acme.test"}) || !reflect.DeepEqual(got.Roles, []string{"member"}) {
		t.Fatalf("SetJITRule = %+v, %v", got, err)
	}
	state := func() storage.JITRule {
		r, err := e.store.GetJITRule(ctx, "acme", "o1")
		must(t, err)
		return r
	}
	saved := state()

	// A role that does not exist: the domains are not saved either.
	_, err = e.svc.SetJITRule(ctx, "acme", a, "o1", []string{"new.test"}, []string{"nope"})
	wantField(t, "unknown role", err, "roles")
	// A limited actor granting a role beyond their permissions.
	_, err = e.svc.SetJITRule(ctx, "acme", manage.Actor{ID: "u1", Limit: &manage.Limit{}}, "o1", []string{"new.test"}, []string{"member"})
	wantField(t, "role beyond the actor's permissions", err, "roles")
	// A domain another organization lists: the roles are not saved either.
	_, err = e.svc.SetJITRule(ctx, "acme", a, "o1", []string{"globex.test"}, []string{})
	var ce *manage.ConflictError
	if !errors.As(err, &ce) || ce.Field != "email_domains" {
		t.Errorf("taken domain: %v, want a ConflictError on email_domains", err)
	}
	_, err = e.svc.SetJITRule(ctx, "acme", a, "o1", []string{"gmail.com"}, []string{})
	wantField(t, "public mail domain", err, "email_domains")
	if after := state(); !reflect.DeepEqual(after, saved) {
		t.Errorf("refused rules changed the rule: %+v, was %+v", after, saved)
	}
}
