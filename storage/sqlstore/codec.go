package sqlstore

import (
	"database/sql"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// scanner is a *sql.Row or *sql.Rows, so that one scan function serves a
// Get and a List.
type scanner interface{ Scan(dest ...any) error }

var (
	_ scanner = (*sql.Row)(nil)
	_ scanner = (*sql.Rows)(nil)
)

// Times are stored as unix microseconds, the finest precision both
// PostgreSQL and SQLite integers hold portably; 0 is the zero time.
func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func fromNullMicros(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return fromMicros(us.Int64)
}

// encodeList stores a string list as a JSON array; nil and empty are "[]".
func encodeList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // a []string always marshals
	return string(b)
}

// decodeList reads a JSON array back; an empty array is nil, so that a list
// reads back the same whether it was stored nil or empty.
func decodeList(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	if v, ok := decodePlainList(s); ok {
		return v, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// decodePlainList decodes what encodeList writes for lists without escapes
// (scopes, AMR values, most URIs) about ten times faster than
// encoding/json, which is a tenth of a refresh-token lookup. Anything else,
// any backslash included, is left to encoding/json (ok false).
func decodePlainList(s string) (v []string, ok bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' || strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) {
		return nil, false
	}
	body := s[1 : len(s)-1]
	v = make([]string, 0, strings.Count(body, ",")+1)
	for {
		if len(body) < 2 || body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		item := body[1:end]
		for i := range len(item) {
			if item[i] < 0x20 { // JSON requires control characters escaped
				return nil, false
			}
		}
		v = append(v, item)
		body = body[end+1:]
		if body == "" {
			return v, true
		}
		if body[0] != ',' {
			return nil, false
		}
		body = body[1:]
	}
}

// nullString stores "" as NULL, for optional columns under a UNIQUE
// constraint (NULLs never collide).
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// nullBytes stores an empty slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// encodeObject stores a JSON object field; nil and "null" are "{}". A value
// that is not valid JSON is refused (errInvalid): callers validate input,
// so this only guards what is stored.
func encodeObject(op, field string, v []byte) (string, error) {
	if len(v) == 0 || string(v) == "null" {
		return "{}", nil
	}
	if !json.Valid(v) {
		return "", failf(op, errInvalid, "%s is not valid JSON", field)
	}
	return string(v), nil
}
