package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/httpx"
)

// errUsage means the flag package has already told the user what is wrong.
var errUsage = errors.New("usage")

// errHelp means the help was asked for and printed: exit 0.
var errHelp = errors.New("help")

// parse fills a configuration from flags and ORGID_* variables. names
// limits the settings to the ones a command uses (nil: all of them).
func (e env) parse(cmd string, names []string, args []string, extra func(*flag.FlagSet)) (config.Config, error) {
	var c config.Config
	out := e.stderr
	if wantsHelp(args) {
		out = e.stdout // asked-for help is output, not an error
	}
	fs := c.NewFlagSet(cmd, names, e.getenv, out)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errHelp
		}
		return c, errUsage // the flag package has printed why
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return c, errUsage
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "--h":
			return true
		case "--":
			return false
		}
	}
	return false
}

// logger is orgid's logger: the format ORGID_LOG_FORMAT asks for, and
// every line logged with a request's context naming the request (and
// secret-named attributes redacted) by httpx.LogHandler.
func (e env) logger(c config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if logFormat(c.LogFormat, e.stderr) == "json" {
		h = slog.NewJSONHandler(e.stderr, opts)
	} else {
		h = slog.NewTextHandler(e.stderr, opts)
	}
	return slog.New(httpx.NewLogHandler(h))
}

// logFormat resolves "auto": text for a person watching a terminal, JSON
// everywhere else. In production orgid's stderr is a pipe or a file read
// by a collector (Docker, Kubernetes, systemd, a log shipper), which wants
// one JSON object a line, as Keycloak's, Zitadel's and Hydra's JSON
// formats give them; nobody has to remember a setting for that.
func logFormat(format string, w io.Writer) string {
	if format != "auto" {
		return format
	}
	if isTerminal(w) {
		return "text"
	}
	return "json"
}

// isTerminal reports whether w is a terminal: a character device that is
// not /dev/null (redirecting to /dev/null is no reason to change format).
// A Stat is enough: orgid needs no ioctl-level answer to pick a format.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}
