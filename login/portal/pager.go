package portal

import (
	"net/http"
	"net/url"

	"github.com/orgid/orgid/storage"
)

// listPageSize is how many rows a portal table shows at a time.
const listPageSize = 50

// pageOf is the page of a list the URL asks for (?page= is the store's
// cursor, opaque).
func pageOf(r *http.Request) storage.Page {
	return storage.Page{Size: listPageSize, After: r.URL.Query().Get("page")}
}

// nextLink is the URL of the next page after cursor next, or "".
func nextLink(r *http.Request, next string) string {
	if next == "" {
		return ""
	}
	q := url.Values{"page": {next}}
	return r.URL.Path + "?" + q.Encode()
}
