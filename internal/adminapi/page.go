package adminapi

import (
	"net/http"
	"strconv"

	"github.com/orgid/orgid/storage"
)

// list is every list answer: one page of items and the token of the next
// page, "" on the last one (always present, so clients loop while it is
// not empty).
type list[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token"`
}

// maxPageToken bounds a page token: the ones orgid hands out are short.
const maxPageToken = 512

// page reads ?page_size= (1 to storage.MaxPageSize, default
// storage.DefaultPageSize) and ?page_token=.
func page(r *http.Request) (storage.Page, error) {
	q := r.URL.Query()
	var p storage.Page
	if s := q.Get("page_size"); s != "" || q.Has("page_size") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > storage.MaxPageSize {
			return p, fieldError(http.StatusBadRequest, "invalid-parameter", "page_size", "must be a whole number from 1 to "+strconv.Itoa(storage.MaxPageSize))
		}
		p.Size = n
	}
	p.After = q.Get("page_token")
	if len(p.After) > maxPageToken {
		return p, fieldError(http.StatusBadRequest, "invalid-parameter", "page_token", "is not a page token of this list")
	}
	return p, nil
}

// listed answers a list GET: the page the query asks for, read by fetch
// (which maps its own errors, e.g. to 404 for a missing parent), each
// item shown by view.
func listed[S, T any](r *http.Request, fetch func(storage.Page) ([]S, string, error), view func(S) T) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	items, next, err := fetch(p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listOf(items, next, view), nil
}

// listOf maps one page of stored records to their JSON form.
func listOf[S, T any](items []S, next string, view func(S) T) list[T] {
	out := list[T]{Items: make([]T, 0, len(items)), NextPageToken: next}
	for _, it := range items {
		out.Items = append(out.Items, view(it))
	}
	return out
}
