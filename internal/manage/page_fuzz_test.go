package manage

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage"
)

// FuzzPageOf: the page_token of the short lists (permissions, roles,
// tenants, a user's organizations) is outside input. Whatever the token,
// pageOf refuses it with a FieldError on page_token or answers a page in
// key order after the token's key, no longer than the limit; the next
// token it hands out names the page's last key, decodes to it and
// re-encodes to itself; and following next tokens from there visits every
// later item once and ends.
func FuzzPageOf(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []struct {
		after string
		size  int
		keys  string
	}{
		{"", 0, "a\nb\nc"},
		{"", 2, "b\na\nc\nd\ne"},
		{enc("perm:b"), 2, "a\nb\nc\nd\ne"},
		{enc("perm:"), 1, "\na\na:b\nü\n\xff"},
		{enc("role:b"), 2, "a\nb\nc"},
		{enc("perm"), 2, "a\nb"},
		{enc("perm:zzz"), 2, "a\nb"},
		{enc("perm:a") + "=", 2, "a\nb"},
		{"%%%", 2, "a"},
		{"cGVybTpi", -5, "a\nb\nc"},
		{"cGVybTpj", 1000, "a\nb\nc"},
	} {
		f.Add(s.after, s.size, s.keys)
	}
	f.Fuzz(func(t *testing.T, after string, size int, keyList string) {
		keys := strings.Split(keyList, "\n")
		slices.Sort(keys)
		keys = slices.Compact(keys) // keys are unique
		shuffled := slices.Clone(keys)
		slices.Reverse(shuffled)
		p := storage.Page{After: after, Size: size}
		id := func(s string) string { return s }

		items, next, err := pageOf("perm", shuffled, id, p)
		if err != nil {
			var fe *storage.FieldError
			if !errors.As(err, &fe) || fe.Field != "page_token" {
				t.Fatalf("pageOf(%q): error %v is no FieldError on page_token", after, err)
			}
			return
		}
		from := ""
		if after != "" {
			raw, _ := base64.RawURLEncoding.DecodeString(after)
			_, from, _ = strings.Cut(string(raw), ":")
		}
		want := keys[:0:0]
		for _, k := range keys {
			if after == "" || k > from {
				want = append(want, k)
			}
		}
		if len(want) > p.Limit() {
			want = want[:p.Limit()]
		}
		if !slices.Equal(items, want) {
			t.Fatalf("pageOf(%q, size %d) over %q = %q, want %q", after, size, keys, items, want)
		}
		if next == "" {
			return
		}
		if len(items) != p.Limit() {
			t.Fatalf("pageOf(%q): next token %q after a short page of %d", after, next, len(items))
		}
		raw, err := base64.RawURLEncoding.DecodeString(next)
		if err != nil || string(raw) != "perm:"+items[len(items)-1] || enc(string(raw)) != next {
			t.Fatalf("pageOf(%q): next token %q does not name the last key %q", after, next, items[len(items)-1])
		}
		// Follow the tokens to the end: each page starts after the last.
		seen := len(items)
		for last := items[len(items)-1]; next != ""; {
			items, next, err = pageOf("perm", shuffled, id, storage.Page{After: next, Size: size})
			if err != nil {
				t.Fatalf("a token pageOf handed out is refused: %v", err)
			}
			if len(items) > 0 && items[0] <= last {
				t.Fatalf("page after %q starts at %q", last, items[0])
			}
			if len(items) > 0 {
				last = items[len(items)-1]
			}
			if seen += len(items); seen > len(keys) {
				t.Fatalf("paging visits more than the %d items", len(keys))
			}
		}
	})
}
