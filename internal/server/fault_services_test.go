package server_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/e2etest"
)

// privatePostgres is a PostgreSQL cluster in a temporary directory.
type privatePostgres struct {
	t    testing.TB
	bin  string // directory of initdb and pg_ctl
	dir  string
	port int
}

// pgBinDir finds the directory of the machine's PostgreSQL server
// binaries: the newest /usr/lib/postgresql/*/bin, else where pg_ctl is.
func pgBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], nil
		}
	}
	p, err := exec.LookPath("pg_ctl")
	if err != nil {
		return "", fmt.Errorf("no PostgreSQL server binaries (pg_ctl) on this machine: %w", err)
	}
	return filepath.Dir(p), nil
}

func startPrivatePostgres(t testing.TB) *privatePostgres {
	t.Helper()
	bin, err := pgBinDir()
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: its parent is private to this user, and as root the
	// server runs as postgres, which must reach the directory.
	dir, err := os.MkdirTemp("", "orgid-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &privatePostgres{t: t, bin: bin, dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop") // may already be stopped
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s to postgres (the server does not run as root): %v\n%s", dir, err, out)
		}
	}
	if out, err := p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *privatePostgres) data() string { return filepath.Join(p.dir, "data") }

// URL is the DSN of the cluster's postgres database.
func (p *privatePostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// run runs one of the server binaries, as postgres when this is root.
func (p *privatePostgres) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, name)}, args...)...)
	}
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

// start starts the server and returns once it accepts connections.
func (p *privatePostgres) start() error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off -c max_connections=200", p.port, p.dir)
	if out, err := p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		return fmt.Errorf("start PostgreSQL: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// stop shuts the server down the way an operator's restart does
// (fast: open connections are cut, in-flight transactions roll back).
func (p *privatePostgres) stop() error {
	if out, err := p.run("pg_ctl", "-D", p.data(), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("stop PostgreSQL: %v\n%s", err, out)
	}
	return nil
}

// privateRedis is a redis-server without persistence: a restart loses
// every key, as a Redis without disk would.
type privateRedis struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
	done chan error
}

func startPrivateRedis(t testing.TB) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed: %v", err)
	}
	r := &privateRedis{t: t, port: freePort(t)}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd != nil {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *privateRedis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start starts redis-server and returns once it answers PING.
func (r *privateRedis) start() error {
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	r.cmd, r.done = cmd, make(chan error, 1)
	go func() { r.done <- cmd.Wait() }()
	// Poll until it answers (not a timing assertion: start-up time).
	for range 200 {
		if o, err := exec.Command("redis-cli", "-p", strconv.Itoa(r.port), "ping").Output(); err == nil && strings.TrimSpace(string(o)) == "PONG" {
			return nil
		}
		select {
		case err := <-r.done:
			r.cmd = nil
			return fmt.Errorf("redis-server exited: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server on port %d did not answer PING", r.port)
}

// stop shuts Redis down without saving, and waits for the process to end.
func (r *privateRedis) stop() error {
	// redis-cli may report the closed connection as an error; what counts
	// is that the process ends.
	out, _ := exec.Command("redis-cli", "-p", strconv.Itoa(r.port), "shutdown", "nosave").CombinedOutput()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		return fmt.Errorf("redis-server did not stop on shutdown nosave (killed): %s", out)
	}
	r.cmd = nil
	return nil
}

// The fault test restarts PostgreSQL and Redis under load. It must not
// restart the machine's shared ones (other packages' tests use them at
// the same time), so it starts private ones on free loopback ports.
func freePort(t testing.TB) int {
	_, port, _ := net.SplitHostPort(e2etest.FreeAddr(t))
	n, _ := strconv.Atoi(port)
	return n
}
