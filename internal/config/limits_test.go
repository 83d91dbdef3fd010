package config

import "testing"

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rate
		bad  bool
	}{
		{in: "0", want: Rate{}},
		{in: "off", want: Rate{}},
		{in: "100/s burst 200", want: Rate{PerSecond: 100, Burst: 200}},
		{in: "100/s", want: Rate{PerSecond: 100, Burst: 100}},
		{in: "30/m", want: Rate{PerSecond: 0.5, Burst: 30}},
		{in: "3600/h burst 10", want: Rate{PerSecond: 1, Burst: 10}},
		{in: " 5/S  BURST  7 ", want: Rate{PerSecond: 5, Burst: 7}},
		{in: "0.5/s", want: Rate{PerSecond: 0.5, Burst: 1}},
		{in: "", bad: true},
		{in: "100", bad: true},
		{in: "100/d", bad: true},
		{in: "-1/s", bad: true},
		{in: "0/s", bad: true},
		{in: "NaN/s", bad: true},
		{in: "100/s burst", bad: true},
		{in: "100/s burst 0", bad: true},
		{in: "100/s burst x", bad: true},
		{in: "100/s bucket 5", bad: true},
		{in: "2e6/s", bad: true},
	} {
		got, err := ParseRate(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseRate(%q) = %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::ffff:198.51.100.1,10.1.2.3/8")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "198.51.100.1/32", "10.0.0.0/8"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if p, err := ParsePrefixes(""); err != nil || len(p) != 0 {
		t.Errorf("empty: %v %v; want none", p, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "lb.example.com", "10.0.0.1,,x"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
