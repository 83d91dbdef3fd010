package main

import (
	"bytes"
	"os"
	"testing"
)

// TestLogFormatAuto: "auto" is text for a terminal and JSON for anything
// else (a pipe, a file, /dev/null); "text" and "json" are obeyed as given.
func TestLogFormatAuto(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tc := range []struct {
		name, format, want string
		w                  any
	}{
		{"buffer", "auto", "json", &bytes.Buffer{}},
		{"file", "auto", "json", file},
		{"/dev/null", "auto", "json", null},
		{"forced text", "text", "text", &bytes.Buffer{}},
		{"forced json", "json", "json", file},
	} {
		w := tc.w.(interface{ Write([]byte) (int, error) })
		if got := logFormat(tc.format, w); got != tc.want {
			t.Errorf("%s: logFormat(%q) = %q, want %q", tc.name, tc.format, got, tc.want)
		}
	}

	// A pseudo-terminal stands in for a person's terminal.
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test the terminal case: %v", err)
	}
	defer pty.Close()
	if got := logFormat("auto", pty); got != "text" {
		t.Errorf("logFormat(auto) on a terminal = %q, want text", got)
	}
	if got := logFormat("json", pty); got != "json" {
		t.Errorf("logFormat(json) on a terminal = %q, want json", got)
	}
}
