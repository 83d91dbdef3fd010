package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/orgid/orgid/internal/config"
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

func (e env) logger(c config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}
