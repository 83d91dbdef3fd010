package loadmix

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// Write is a management write that orgid acknowledged with a 2xx: what
// must be in the database afterwards.
type Write struct {
	Kind  string // "organization", "user", "member" or "roles"
	ID    string // of the organization or user created
	Name  string // the organization's name or the user's email
	Org   string // member, roles: the organization
	User  string // member, roles: the user
	Roles []string
}

// writeState is the management side of the load: organizations and users
// are created, then paired as members, then the member's roles are
// changed once. Only acknowledged writes become facts to check.
type writeState struct {
	mu      sync.Mutex
	n       int
	acked   []Write
	orgs    []string // created, not yet given a member
	users   []string // created, not yet a member
	members []Write  // added, roles not yet changed
	// unsure holds the memberships whose role change got no 2xx: their
	// roles are either the old or the new ones.
	unsure map[[2]string]bool
	// failed counts the writes that got no 2xx.
	failed int
}

// write sends the next management write: create an organization, create
// a user, add a created user to a created organization as member, or
// make a member admin, in turn.
func (l *Load) write(ctx context.Context) {
	w := &l.writes
	w.mu.Lock()
	w.n++
	n := w.n
	step := n % 4
	var org, user string
	var member Write
	switch {
	case step == 2 && len(w.orgs) > 0 && len(w.users) > 0:
		org, user = w.orgs[0], w.users[0]
		w.orgs, w.users = w.orgs[1:], w.users[1:]
	case step == 3 && len(w.members) > 0:
		member = w.members[0]
		w.members = w.members[1:]
	case step >= 2:
		step = step - 2 // nothing to pair or change yet: create instead
	}
	w.mu.Unlock()

	admin := l.tenantPath + "/api/v1/admin"
	switch step {
	case 0:
		name := fmt.Sprintf("Load %s %d", l.run, n)
		a := l.send(ctx, OpWrite, "", "POST /organizations", admin+"/organizations", nil, map[string]any{"name": name}, "", "")
		var out struct{ ID string }
		if !a.ok() || a.decode(&out) != nil || out.ID == "" {
			w.fail()
			return
		}
		w.ack(Write{Kind: "organization", ID: out.ID, Name: name}, func() { w.orgs = append(w.orgs, out.ID) })
	case 1:
		email := fmt.Sprintf("load-%s-%d@example.test", l.run, n)
		a := l.send(ctx, OpWrite, "", "POST /users", admin+"/users", nil, map[string]any{"email": email, "name": "Load"}, "", "")
		var out struct{ ID string }
		if !a.ok() || a.decode(&out) != nil || out.ID == "" {
			w.fail()
			return
		}
		w.ack(Write{Kind: "user", ID: out.ID, Name: email}, func() { w.users = append(w.users, out.ID) })
	case 2:
		a := l.send(ctx, OpWrite, "", "POST /organizations/{orgId}/members", admin+"/organizations/"+org+"/members", nil,
			map[string]any{"user_id": user, "roles": []string{"member"}}, "", "")
		if !a.ok() {
			w.fail()
			return
		}
		m := Write{Kind: "member", Org: org, User: user, Roles: []string{"member"}}
		w.ack(m, func() { w.members = append(w.members, m) })
	case 3:
		a := l.send(ctx, OpWrite, http.MethodPut, "PUT /organizations/{orgId}/members/{userId}/roles",
			admin+"/organizations/"+member.Org+"/members/"+member.User+"/roles", nil, map[string]any{"roles": []string{"admin"}}, "", "")
		if !a.ok() {
			w.mu.Lock()
			if w.unsure == nil {
				w.unsure = map[[2]string]bool{}
			}
			w.unsure[[2]string{member.Org, member.User}] = true
			w.failed++
			w.mu.Unlock()
			return
		}
		w.ack(Write{Kind: "roles", Org: member.Org, User: member.User, Roles: []string{"admin"}}, nil)
	}
}

func (w *writeState) ack(wr Write, then func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acked = append(w.acked, wr)
	if then != nil {
		then()
	}
}

func (w *writeState) fail() {
	w.mu.Lock()
	w.failed++
	w.mu.Unlock()
}

// Writes returns the acknowledged writes, and how many writes got no 2xx.
func (l *Load) Writes() (acked []Write, failed int) {
	l.writes.mu.Lock()
	defer l.writes.mu.Unlock()
	return slices.Clone(l.writes.acked), l.writes.failed
}

// VerifyWrites reads every acknowledged write back through the management
// API, alternating between the replicas (so each reads what the other
// wrote), and returns what is missing or wrong. Call it after Run.
func (l *Load) VerifyWrites(ctx context.Context) []error {
	acked, _ := l.Writes()
	l.writes.mu.Lock()
	unsure := l.writes.unsure
	l.writes.mu.Unlock()

	// The roles each membership must have: the last acknowledged change,
	// unless a later change got no answer (then either will do).
	roles := map[[2]string][]string{}
	for _, w := range acked {
		if w.Kind == "member" || w.Kind == "roles" {
			roles[[2]string{w.Org, w.User}] = w.Roles
		}
	}
	admin := l.tenantPath + "/api/v1/admin"
	var errs []error
	for i, w := range acked {
		base := l.cfg.Bases[i%len(l.cfg.Bases)]
		get := func(path string, v any) bool {
			a := l.sendTo(ctx, base, OpWrite, http.MethodGet, "", admin+path, nil, nil, "", "", false)
			if a.status != http.StatusOK {
				errs = append(errs, fmt.Errorf("%s %+v acknowledged, but GET %s at %s: %s", w.Kind, w, path, base, a))
				return false
			}
			if err := a.decode(v); err != nil {
				errs = append(errs, fmt.Errorf("GET %s: %v", path, err))
				return false
			}
			return true
		}
		switch w.Kind {
		case "organization":
			var o struct{ ID, Name string }
			if get("/organizations/"+w.ID, &o) && (o.ID != w.ID || o.Name != w.Name) {
				errs = append(errs, fmt.Errorf("organization %s: got %+v, want name %q", w.ID, o, w.Name))
			}
		case "user":
			var u struct{ ID, Email string }
			if get("/users/"+w.ID, &u) && (u.ID != w.ID || u.Email != w.Name) {
				errs = append(errs, fmt.Errorf("user %s: got %+v, want email %q", w.ID, u, w.Name))
			}
		case "member":
			var out struct {
				Items []struct {
					ID    string
					Roles []string
				}
			}
			if !get("/users/"+w.User+"/organizations", &out) {
				continue
			}
			key := [2]string{w.Org, w.User}
			i := slices.IndexFunc(out.Items, func(it struct {
				ID    string
				Roles []string
			}) bool {
				return it.ID == w.Org
			})
			switch {
			case i < 0:
				errs = append(errs, fmt.Errorf("user %s acknowledged as member of %s, but their organizations are %+v", w.User, w.Org, out.Items))
			case unsure[key] && (slices.Equal(out.Items[i].Roles, []string{"member"}) || slices.Equal(out.Items[i].Roles, []string{"admin"})):
			case !slices.Equal(out.Items[i].Roles, roles[key]):
				errs = append(errs, fmt.Errorf("member %s of %s has roles %v, want %v", w.User, w.Org, out.Items[i].Roles, roles[key]))
			}
		}
	}
	return errs
}
