package storagetest

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Every paged list (organizations, members, applications, audit log) runs
// the same cases: pages in order with no duplicates or gaps, a stable walk
// while rows are added, an empty list, and a refused bad cursor.

var durablePageTests = slices.Concat(
	durPagedList[storage.Organization]{
		name: "Organizations",
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			durMust(t, s.CreateOrganization(t.Context(), storage.Organization{
				TenantID: tenant, ID: id, Name: "Org " + id, Slug: "slug-" + id, CreatedAt: at,
			}))
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.Organization, string, error) {
			return s.ListOrganizations(t.Context(), tenant, p)
		},
		key: func(o storage.Organization) string { return o.ID },
	}.tests(),
	durPagedList[storage.Member]{
		name: "Members",
		setup: func(t *testing.T, s storage.Store, tenant string) {
			durMust(t, s.CreateOrganization(t.Context(), storage.Organization{TenantID: tenant, ID: "o1", Name: "O", Slug: "o1", CreatedAt: durT0}))
			// A member of another organization is not listed.
			durMust(t, s.CreateOrganization(t.Context(), storage.Organization{TenantID: tenant, ID: "o2", Name: "O", Slug: "o2", CreatedAt: durT0}))
			durUser(t, s, tenant, "elsewhere", "elsewhere@example.test")
			durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: tenant, OrganizationID: "o2", UserID: "elsewhere", JoinedAt: durT0}))
		},
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			durUser(t, s, tenant, id, id+"@example.test")
			durMust(t, s.AddMembership(t.Context(), storage.Membership{
				TenantID: tenant, OrganizationID: "o1", UserID: id, Roles: []string{storage.RoleMember}, JoinedAt: at,
			}))
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.Member, string, error) {
			return s.ListMembers(t.Context(), tenant, "o1", p)
		},
		key: func(m storage.Member) string { return m.UserID },
	}.tests(),
	durPagedList[storage.Application]{
		name: "Applications",
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			durApp(t, s, tenant, id, at)
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.Application, string, error) {
			return s.ListApplications(t.Context(), tenant, p)
		},
		key: func(a storage.Application) string { return a.ClientID },
	}.tests(),
	durPagedList[storage.AuditEntry]{
		name:        "Audit",
		newestFirst: true,
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			durMust(t, s.AppendAudit(t.Context(), storage.AuditEntry{
				TenantID: tenant, ID: id, Actor: "admin", Action: "organization.create", Target: id, CreatedAt: at,
			}))
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.AuditEntry, string, error) {
			return s.ListAudit(t.Context(), tenant, storage.AuditFilter{}, p)
		},
		key: func(e storage.AuditEntry) string { return e.ID },
	}.tests(),
	// A filtered audit log pages the same way past the entries it skips.
	durPagedList[storage.AuditEntry]{
		name:        "AuditFiltered",
		newestFirst: true,
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			for _, e := range []storage.AuditEntry{
				{TenantID: tenant, ID: id, Actor: "admin", Action: "member.add", Target: "o1", CreatedAt: at},
				{TenantID: tenant, ID: id + "-other", Actor: "admin", Action: "member.add", Target: "o2", CreatedAt: at},
			} {
				durMust(t, s.AppendAudit(t.Context(), e))
			}
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.AuditEntry, string, error) {
			return s.ListAudit(t.Context(), tenant, storage.AuditFilter{Target: "o1", Action: "member"}, p)
		},
		key: func(e storage.AuditEntry) string { return e.ID },
	}.tests(),
	durPagedList[storage.User]{
		name: "Users",
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			durMust(t, s.CreateUser(t.Context(), storage.User{TenantID: tenant, ID: id, Email: id + "@example.test", CreatedAt: at, UpdatedAt: at}))
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.User, string, error) {
			return s.SearchUsers(t.Context(), tenant, "", p)
		},
		key: func(u storage.User) string { return u.ID },
	}.tests(),
	// A search pages the same way past the users it skips.
	durPagedList[storage.User]{
		name: "UsersSearched",
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			for _, u := range []storage.User{
				{TenantID: tenant, ID: id, Email: id + "@Found.example", CreatedAt: at, UpdatedAt: at},
				{TenantID: tenant, ID: id + "-other", Email: id + "@elsewhere.example", CreatedAt: at, UpdatedAt: at},
			} {
				durMust(t, s.CreateUser(t.Context(), u))
			}
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.User, string, error) {
			return s.SearchUsers(t.Context(), tenant, "@FOUND", p)
		},
		key: func(u storage.User) string { return u.ID },
	}.tests(),
)

// durPagedList describes one paged list to the shared cases.
type durPagedList[T any] struct {
	name string
	// newestFirst: the list runs from the latest time back; otherwise
	// oldest first. Ties are broken by ID, in the same direction.
	newestFirst bool
	// setup, when set, makes what rows of tenant need besides the tenant.
	setup func(t *testing.T, s storage.Store, tenant string)
	// add stores the row with ID id whose sort time is at.
	add  func(t *testing.T, s storage.Store, tenant, id string, at time.Time)
	list func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]T, string, error)
	key  func(T) string
}

// durRow is a row as the cases know it: its ID and its sort time.
type durRow struct {
	id string
	at time.Time
}

func (l durPagedList[T]) tests() []durableTest {
	return []durableTest{
		{"Page/" + l.name + "/AcrossPages", l.testAcross},
		{"Page/" + l.name + "/StableWhileAdding", l.testStable},
		{"Page/" + l.name + "/Empty", l.testEmpty},
		{"Page/" + l.name + "/BadCursor", l.testBadCursor},
	}
}

// tenant makes tenant with what its rows need.
func (l durPagedList[T]) tenant(t *testing.T, s storage.Store, tenant string) {
	t.Helper()
	durTenant(t, s, tenant)
	if l.setup != nil {
		l.setup(t, s, tenant)
	}
}

// order sorts rows as the list must return them.
func (l durPagedList[T]) order(rows []durRow) []string {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b durRow) int {
		c := cmp.Or(a.at.Compare(b.at), strings.Compare(a.id, b.id))
		if l.newestFirst {
			return -c
		}
		return c
	})
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}

// page fetches one page and returns the IDs of its items and the next
// page's token.
func (l durPagedList[T]) page(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]string, string) {
	t.Helper()
	items, next, err := l.list(t, s, tenant, p)
	durMust(t, err)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = l.key(it)
	}
	return ids, next
}

// walk pages through the whole list with pages of size, checking that
// every page but the last is full and names a next page, and that the last
// names none. between, when set, runs after the first page, with it.
func (l durPagedList[T]) walk(t *testing.T, s storage.Store, tenant string, size int, between func(first []string)) (pages [][]string) {
	t.Helper()
	p := storage.Page{Size: size}
	for range 100 {
		ids, next := l.page(t, s, tenant, p)
		pages = append(pages, ids)
		if next == "" {
			if len(ids) > size {
				t.Errorf("last page has %d items, more than the page size %d", len(ids), size)
			}
			return pages
		}
		if len(ids) != size {
			t.Errorf("page %d has %d items and a next page; want a full page of %d", len(pages), len(ids), size)
		}
		if len(pages) == 1 && between != nil {
			between(ids)
		}
		p.After = next
	}
	t.Fatalf("no last page after %d pages", len(pages))
	return nil
}

// rows makes n rows named prefix00.. in an order that is neither their
// IDs' nor their times'; rows 2k and 2k+1 share a time, so ties are
// broken by ID.
func durRows(prefix string, n int) []durRow {
	rows := make([]durRow, n)
	for i := range n {
		j := (i * 5) % n // a permutation when n and 5 are coprime
		rows[i] = durRow{id: prefix + string(rune('a'+j/10)) + string(rune('0'+j%10)), at: durT0.Add(time.Duration(j/2) * time.Minute)}
	}
	return rows
}

// Seven rows in pages of three: 3, 3, 1, in list order, none twice; rows
// of another tenant never show.
func (l durPagedList[T]) testAcross(t *testing.T, s storage.Store) {
	l.tenant(t, s, "acme")
	l.tenant(t, s, "other")
	rows := durRows("r", 7)
	for _, r := range rows {
		l.add(t, s, "acme", r.id, r.at)
	}
	// Same IDs and times in another tenant, plus one that acme lacks.
	for _, r := range append(slices.Clone(rows), durRow{"theirs", durT0}) {
		l.add(t, s, "other", r.id, r.at)
	}
	pages := l.walk(t, s, "acme", 3, nil)
	var sizes []int
	for _, p := range pages {
		sizes = append(sizes, len(p))
	}
	durSame(t, "page sizes", sizes, []int{3, 3, 1})
	durSame(t, "items across pages", slices.Concat(pages...), l.order(rows))

	// One page holds them all when it is big enough, and then names no
	// next page; the default size (0) is big enough for seven.
	for _, size := range []int{0, 7, storage.MaxPageSize + 1} {
		ids, next := l.page(t, s, "acme", storage.Page{Size: size})
		durSame(t, "one page", ids, l.order(rows))
		if next != "" {
			t.Errorf("page of size %d holding every item names a next page %q", size, next)
		}
	}
}

// Rows added while a client pages: the walk goes on from where it was,
// every row that was there shows exactly once, and a new row shows when it
// sorts after the position reached.
func (l durPagedList[T]) testStable(t *testing.T, s storage.Store) {
	l.tenant(t, s, "acme")
	rows := durRows("r", 9)
	for _, r := range rows {
		l.add(t, s, "acme", r.id, r.at)
	}
	all := slices.Clone(rows)
	var first []string
	pages := l.walk(t, s, "acme", 2, func(ids []string) {
		first = ids
		durSame(t, "first page", first, l.order(rows)[:2])
		if len(first) != 2 {
			t.FailNow()
		}
		last := rows[slices.IndexFunc(rows, func(r durRow) bool { return r.id == first[1] })]
		for _, r := range []durRow{
			{"early", durT0.Add(-time.Hour)},     // before every row
			{"late", durT0.Add(time.Hour)},       // after every row
			{last.id + "0", last.at},             // tied with the cursor, after it by ID
			{"a" + last.id, last.at},             // tied with the cursor, before it by ID
			{"mid", durT0.Add(90 * time.Second)}, // among the rows still to come
		} {
			l.add(t, s, "acme", r.id, r.at)
			all = append(all, r)
		}
	})
	got := slices.Concat(pages...)
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("%s shows twice", id)
		}
	}
	for _, r := range rows {
		if seen[r.id] == 0 {
			t.Errorf("%s, there before the walk began, was skipped", r.id)
		}
	}
	// Exactly: the first page, then everything now stored that sorts
	// after its last row.
	order := l.order(all)
	cut := slices.Index(order, first[1])
	durSame(t, "items across pages", got, slices.Concat(first, order[cut+1:]))
}

func (l durPagedList[T]) testEmpty(t *testing.T, s storage.Store) {
	l.tenant(t, s, "acme")
	l.tenant(t, s, "other")
	l.add(t, s, "other", "theirs", durT0)
	ids, next := l.page(t, s, "acme", storage.Page{Size: 2})
	if len(ids) != 0 || next != "" {
		t.Errorf("empty list: items %v, next %q; want none", ids, next)
	}
	ids, next = l.page(t, s, "missing-tenant", storage.Page{})
	if len(ids) != 0 || next != "" {
		t.Errorf("list of a missing tenant: items %v, next %q; want none", ids, next)
	}
}

// A page token the store did not hand out is refused as a FieldError on
// page_token (the API answers 400 naming it), with no items.
func (l durPagedList[T]) testBadCursor(t *testing.T, s storage.Store) {
	l.tenant(t, s, "acme")
	for _, r := range durRows("r", 3) {
		l.add(t, s, "acme", r.id, r.at)
	}
	for _, bad := range []string{"%%%", "not a token", "AAAA", "eyJhIjoxfQ", strings.Repeat("z", 300), strings.Repeat("A", 1<<16)} {
		items, next, err := l.list(t, s, "acme", storage.Page{Size: 1, After: bad})
		var fe *storage.FieldError
		if !errors.As(err, &fe) || fe.Field != "page_token" {
			t.Errorf("page token %q: got error %v, want a *storage.FieldError on page_token", bad, err)
		}
		if len(items) != 0 || next != "" {
			t.Errorf("page token %q: got %d items and next %q, want none", bad, len(items), next)
		}
	}
}
