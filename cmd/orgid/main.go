// Command orgid is the orgid OpenID Provider: `orgid serve` runs it, and
// the other commands manage what it stores.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	e := env{ctx: ctx, stopSignals: stop, getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
	code := e.run(os.Args[1:])
	stop()
	os.Exit(code)
}

const usage = `orgid — an OpenID Provider for B2B software

Usage:
  orgid serve [flags]             run the server (orgid serve --help lists every setting)
  orgid migrate [flags]           apply database migrations and exit
  orgid apps create [flags]       register an application and print its credentials
  orgid keys rotate --tenant T    rotate a tenant's signing keys
  orgid version                   print the version
`

// run executes one command and returns the process exit code.
func (e env) run(args []string) int {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = e.serve(args[1:])
	case "migrate":
		err = e.migrate(args[1:])
	case "apps":
		err = e.apps(args[1:])
	case "keys":
		err = e.keys(args[1:])
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionString())
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "orgid: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil, err == errHelp:
		return 0
	case err == errUsage:
		return 2
	default:
		fmt.Fprintf(stderr, "orgid: %v\n", err)
		return 1
	}
}

type env struct {
	ctx context.Context
	// stopSignals restores default signal handling, so that a second
	// SIGINT or SIGTERM during a graceful shutdown kills the process.
	stopSignals func()
	getenv      func(string) string
	stdout      io.Writer
	stderr      io.Writer
}
