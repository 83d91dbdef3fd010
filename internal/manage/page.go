package manage

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/orgid/orgid/storage"
)

// pageOf pages through a list the store returns whole (permissions, roles,
// a user's organizations, tenants: short lists), so that every list of the
// API takes the same page_size and page_token. Keys must be unique; items
// are ordered by key here, bytewise, whatever the database's collation.
// The cursor is the last key handed out, so items added meanwhile are
// neither repeated nor make others skipped.
func pageOf[T any](list string, items []T, key func(T) string, p storage.Page) ([]T, string, error) {
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	start := 0
	if p.After != "" {
		raw, err := base64.RawURLEncoding.DecodeString(p.After)
		name, after, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok || name != list {
			return nil, "", &storage.FieldError{Field: "page_token", Message: "is not a page token of this list"}
		}
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	items = items[start:]
	if len(items) <= p.Limit() {
		return items, "", nil
	}
	items = items[:p.Limit()]
	return items, base64.RawURLEncoding.EncodeToString([]byte(list + ":" + key(items[len(items)-1]))), nil
}
