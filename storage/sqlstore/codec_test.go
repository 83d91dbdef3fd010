package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestListRoundTrip(t *testing.T) {
	for _, v := range [][]string{
		nil,
		{"openid"},
		{"openid", "profile", "offline_access"},
		{"https://app.example.test/cb?a=1&b=2", "<script>"},
		{`quote " and \ backslash`, "tab\there", "ünïcode", ""},
		{"", ""},
	} {
		got, err := decodeList(encodeList(v))
		if err != nil {
			t.Fatalf("decodeList(encodeList(%q)): %v", v, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %q = %q", v, got)
		}
	}
}

// FuzzDecodePlainList checks the fast path against encoding/json: whatever
// it accepts, encoding/json decodes to the same list.
func FuzzDecodePlainList(f *testing.F) {
	for _, s := range []string{`["a","b"]`, `[""]`, `["a",]`, `["a""b"]`, `[,]`, `["\u00e9"]`, `["a" ,"b"]`, "[\"\x01\"]", `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := decodePlainList(s)
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("fast path accepted %q, which encoding/json rejects: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodePlainList(%q) = %q, encoding/json says %q", s, got, want)
		}
	})
}

func TestMicros(t *testing.T) {
	if toMicros(time.Time{}) != 0 || !fromMicros(0).IsZero() {
		t.Error("the zero time does not map to 0")
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 678901234, time.FixedZone("x", 3600))
	got := fromMicros(toMicros(at))
	if !got.Equal(at.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Errorf("round trip of %v = %v", at, got)
	}
}
