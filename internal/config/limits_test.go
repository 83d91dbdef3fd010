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
