package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBody bounds a request body: the largest legitimate one (an
// organization with 16 KiB of custom data) is far smaller.
const maxBody = 1 << 20

// decode reads the JSON object body into v. Unknown fields are refused, so
// that a misspelt field is an error rather than silently ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return newError(http.StatusUnsupportedMediaType, "unsupported-media-type", "send the body as application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// One JSON value, nothing after it.
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return newError(http.StatusBadRequest, "malformed-request", "the body must hold one JSON object")
		}
		return nil
	}
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return newError(http.StatusRequestEntityTooLarge, "body-too-large", fmt.Sprintf("the body must be at most %d bytes", maxBody))
	case errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, "malformed-request", "the body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, "malformed-request", "the body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return newError(http.StatusBadRequest, "malformed-request", "the body must be a JSON object")
		}
		return fieldError(http.StatusBadRequest, "malformed-request", typ.Field, fmt.Sprintf("must be %s", jsonKind(typ.Type.Kind().String())))
	}
	// encoding/json says `json: unknown field "x"` and has no typed error
	// for it.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		return fieldError(http.StatusBadRequest, "malformed-request", field, "is not a field of this request")
	}
	return newError(http.StatusBadRequest, "malformed-request", "the body is not a valid JSON object for this request")
}

// jsonKind names a Go kind in JSON terms.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a value of another type"
	}
	return "a number"
}
