package sqlstore

import (
	"errors"
	"math"
	"testing"

	"github.com/orgid/orgid/storage"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, k := range []pageKey{
		{0, ""},
		{1741064767123456, "org_01HX"},
		{-5, "with:colons:and spaces"},
		{math.MaxInt64, "ünïcode"},
	} {
		c := encodeCursor(cursorMembers, k)
		got, err := decodeCursor("op", cursorMembers, storage.Page{After: c}, firstAscending)
		if err != nil || got != k {
			t.Errorf("decode(encode(%+v)) = %+v, %v", k, got, err)
		}
	}
	got, err := decodeCursor("op", cursorAudit, storage.Page{}, firstDescending)
	if err != nil || got != firstDescending {
		t.Errorf("empty cursor = %+v, %v; want the start of the list", got, err)
	}
}

// A cursor of one list is refused by another, as malformed ones are.
func TestCursorOfAnotherList(t *testing.T) {
	c := encodeCursor(cursorOrganizations, pageKey{1, "o1"})
	for _, after := range []string{c, c + "x", "b3JnOng6bzE", "bWVtOjE"} {
		_, err := decodeCursor("op", cursorMembers, storage.Page{After: after}, firstAscending)
		var fe *storage.FieldError
		if !errors.As(err, &fe) || fe.Field != "page_token" {
			t.Errorf("cursor %q: %v, want a FieldError on page_token", after, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(cursorApplications, pageKey{42, "c1"}))
	f.Add("")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, after string) {
		k, err := decodeCursor("op", cursorApplications, storage.Page{After: after}, firstAscending)
		if err != nil {
			var fe *storage.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is no FieldError", err)
			}
			return
		}
		if after != "" && encodeCursor(cursorApplications, k) != after {
			// Only what encodeCursor makes is accepted, up to base64's
			// non-canonical trailing bits.
			if _, err := decodeCursor("op", cursorApplications, storage.Page{After: encodeCursor(cursorApplications, k)}, firstAscending); err != nil {
				t.Fatalf("re-encoded cursor refused: %v", err)
			}
		}
	})
}
