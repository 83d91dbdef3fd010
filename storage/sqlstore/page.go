package sqlstore

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"

	"github.com/orgid/orgid/storage"
)

// Lists page by keyset, never by OFFSET: every list is ordered by a
// (time, ID) pair that an index holds in order after tenant_id, and a page
// asks for the rows after (or, newest first, before) the last pair the
// previous page returned, plus one row to learn whether another page
// follows. A page so costs the same however deep it is, and rows added
// while a client pages are neither repeated nor make others skipped.
//
// The cursor handed out is that pair, opaque to callers: base64url of
// "{list}:{micros}:{id}". The list name keeps a cursor of one list from
// being taken by another.

// Cursor list names.
const (
	cursorOrganizations = "org"
	cursorMembers       = "mem"
	cursorApplications  = "app"
	cursorAudit         = "aud"
	cursorOrgApps       = "oap"
	cursorAppLinks      = "lnk"
	cursorMail          = "mai"
	cursorInvitations   = "inv"
	cursorBillingReqs   = "brq"
	cursorUsers         = "usr"
)

// maxCursorLen bounds the page tokens decoded: IDs are short, and a
// client's token is no reason to allocate much.
const maxCursorLen = 1024

// pageKey is a position in a list: the sort time in unix microseconds and
// the ID that breaks ties.
type pageKey struct {
	at int64
	id string
}

// firstAscending and firstDescending are the positions before the first
// row of an oldest-first and a newest-first list: every stored time is
// after MinInt64 and before MaxInt64.
var (
	firstAscending  = pageKey{at: math.MinInt64}
	firstDescending = pageKey{at: math.MaxInt64}
)

func encodeCursor(list string, k pageKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.FormatInt(k.at, 10) + ":" + k.id))
}

// decodeCursor reads the cursor of list p.After; "" is the start of the
// list. A cursor that is not one this list handed out is a FieldError on
// page_token, so that the API can answer 400 naming the parameter.
func decodeCursor(op, list string, p storage.Page, start pageKey) (pageKey, error) {
	if p.After == "" {
		return start, nil
	}
	bad := func() (pageKey, error) {
		return pageKey{}, wrap(op, &storage.FieldError{Field: "page_token", Message: "is not a page token of this list"})
	}
	if len(p.After) > maxCursorLen {
		return bad()
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.After)
	if err != nil {
		return bad()
	}
	name, rest, ok := strings.Cut(string(raw), ":")
	if !ok || name != list {
		return bad()
	}
	num, id, ok := strings.Cut(rest, ":")
	if !ok {
		return bad()
	}
	at, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return bad()
	}
	return pageKey{at: at, id: id}, nil
}

// pageEnd trims rows fetched with limit+1 to one page and returns the
// cursor of the next page, "" when this one is the last.
func pageEnd[T any](list string, rows []T, limit int, key func(T) pageKey) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodeCursor(list, key(rows[limit-1]))
}
