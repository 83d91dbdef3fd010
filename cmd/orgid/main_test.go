package main_test

// These tests run the real orgid binary as OS processes on loopback: built
// once in TestMain, started with an explicit environment, driven over HTTP
// with the shared e2etest browser and relying party, and stopped with
// signals. They test what only a process can show: flags and variables,
// exit codes, signals, files in the data dir, and several processes
// sharing one store.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage/redisstore/redistest"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// bin is the orgid binary built by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "orgid-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "orgid")
	build := exec.Command("go", "build", "-o", bin, "./cmd/orgid")
	build.Dir = filepath.Join("..", "..") // the module root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/orgid: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

const (
	// readyTimeout bounds the wait for a process to answer /readyz.
	readyTimeout = 20 * time.Second
	// exitTimeout bounds the wait for a process to exit when it should.
	exitTimeout = 10 * time.Second
	// commandTimeout bounds one short command (migrate, apps, keys).
	commandTimeout = 60 * time.Second
)

// environ is the complete environment of an orgid process: nothing is
// inherited, so an ORGID_* variable of the developer's shell cannot leak
// into a test.
type environ map[string]string

func (e environ) with(kv ...string) environ {
	out := environ{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (e environ) list() []string {
	out := []string{}
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// newMasterKey returns a fresh master key as base64.
func newMasterKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer = e2etest.Buffer

// proc is a running orgid process.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's result, set before done is closed
}

// start runs orgid with args and exactly env; the process is killed when
// the test ends.
func start(t testing.TB, env environ, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env.list()
	cmd.Dir = t.TempDir() // a relative default (./orgid-data) lands here, not in the repo
	p := &proc{t: t, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start orgid %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("orgid %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p.stdout, p.stderr)
		}
	})
	return p
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Fatalf("orgid did not exit within %v\nstderr:\n%s", d, p.stderr)
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode() // -1 when killed by a signal
	default:
		p.t.Fatalf("wait: %v", p.err)
		return -1
	}
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(exitTimeout); code != 0 {
		p.t.Fatalf("orgid exited with %d after SIGTERM\nstderr:\n%s", code, p.stderr)
	}
}

// result is what a short command left behind.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs a short command to its end.
func run(t testing.TB, env environ, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env.list()
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("orgid %s did not finish within %v\n%s", strings.Join(args, " "), commandTimeout, r)
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("orgid %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// mustRun runs a command that must succeed.
func mustRun(t testing.TB, env environ, args ...string) result {
	t.Helper()
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("orgid %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// server is a serving orgid.
type server struct {
	*proc
	addr string // 127.0.0.1:port
	url  string // http://addr
}

func (s *server) issuer() string { return s.url + "/t/default" }

// serve starts `orgid serve` on addr (a free port when empty) and waits
// until /readyz answers 200.
func serve(t testing.TB, env environ, addr string) *server {
	t.Helper()
	if addr == "" {
		addr = e2etest.FreeAddr(t)
	}
	s := &server{proc: start(t, env, "serve", "--addr", addr), addr: addr, url: "http://" + addr}
	s.waitReady()
	return s
}

// waitReady polls /readyz and fails the test unless it answers 200.
func (s *server) waitReady() {
	s.t.Helper()
	if err := s.ready(); err != nil {
		s.t.Fatalf("%v\nstderr:\n%s", err, s.stderr)
	}
}

// ready polls /readyz until it answers 200, the process exits, or
// readyTimeout passes. The loop waits for a process to start, so it is
// bounded; the caller fails with what the process said.
func (s *server) ready() error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	var last string
	for {
		if s.exited() {
			return fmt.Errorf("orgid serve exited before it was ready (%v)", s.err)
		}
		resp, err := hc.Get(s.url + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("orgid serve not ready within %v (last: %s)", readyTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// refused reports whether a TCP connection to addr is refused.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// get fetches u and returns the status and body.
func get(t testing.TB, hc *http.Client, u string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", u, err)
	}
	return resp.StatusCode, body
}

// backend is a set of stores a serving test can run on.
type backend struct {
	name string
	env  func(t testing.TB) environ
}

// backends are the embedded store and, when ORGID_TEST_DATABASE_URL and
// ORGID_TEST_REDIS_URL are set, PostgreSQL + Redis.
var backends = []backend{
	{"embedded", func(t testing.TB) environ { return environ{"ORGID_DATA_DIR": t.TempDir()} }},
	{"postgres+redis", func(t testing.TB) environ {
		if os.Getenv(sqltest.EnvDatabaseURL) == "" || os.Getenv(redistest.EnvURL) == "" {
			t.Skip("set ORGID_TEST_DATABASE_URL and ORGID_TEST_REDIS_URL to run on PostgreSQL + Redis")
		}
		return environ{
			"ORGID_DATA_DIR":     t.TempDir(),
			"ORGID_DATABASE_URL": sqltest.PostgresURL(t),
			"ORGID_REDIS_URL":    redistest.URL(t),
			"ORGID_MASTER_KEY":   newMasterKey(),
		}
	}},
}
