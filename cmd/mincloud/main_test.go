package main

// Most tests run the command in-process, through run as main calls it
// (so that go test -cover sees it), one at a time: each run gets its own
// environment and working directory through t.Setenv and t.Chdir. The
// tests of serve, the terminal and a few others run the built binary, as
// a user would, in parallel; TestMain starts a shared `mincloud serve`.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mincloud-go/baas/internal/envconf"
)

const (
	testClientID = "cli-test"
	testSecret   = "cli-secret-0123456789"
)

var (
	binary  string // the built mincloud
	hostURL string // the shared `mincloud serve`
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mincloud-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "mincloud")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building mincloud:", err)
		return 1
	}
	srv, err := startServe("--client-id", testClientID, "--client-secret", testSecret)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.stop()
	hostURL = srv.url
	return m.Run()
}

// served is a running `mincloud serve`.
type served struct {
	cmd    *exec.Cmd
	url    string
	banner []string // what it printed up to its "try:" line
	rest   *lockedBuffer
	stderr *lockedBuffer // complete once stopped
	done   chan error
}

// startServe runs `mincloud serve` on a free port with args and waits
// for its banner.
func startServe(args ...string) (*served, error) {
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = cleanEnv(os.TempDir())
	endsWithTest(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &served{cmd: cmd, rest: &lockedBuffer{}, stderr: stderr, done: make(chan error, 1)}
	// A bufio.Reader, not a Scanner: what it read past the banner is
	// copied into rest below, not lost.
	br := bufio.NewReader(out)
	urlLine := regexp.MustCompile(`^MinCloud emulator listening on (\S+)$`)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			break
		}
		line = strings.TrimSuffix(line, "\n")
		s.banner = append(s.banner, line)
		if m := urlLine.FindStringSubmatch(line); m != nil {
			s.url = m[1]
		}
		if strings.HasPrefix(line, "try:") {
			break
		}
	}
	if s.url == "" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("serve printed no URL: %q %s", s.banner, stderr.String())
	}
	go func() {
		io.Copy(s.rest, br) // the functions' logs, and "stopped"
		s.done <- cmd.Wait()
	}()
	return s, nil
}

// stop interrupts serve, as Ctrl-C does, and returns how it ended.
func (s *served) stop() error {
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		return errors.New("serve did not stop on an interrupt")
	}
}

// cleanEnv is the environment without MINCLOUD_*, NO_COLOR and the
// user's config directory, which is configDir instead.
func cleanEnv(configDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "MINCLOUD_"), k == "NO_COLOR", k == "XDG_CONFIG_HOME", k == "HOME", k == "TERM":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "XDG_CONFIG_HOME="+configDir, "HOME="+configDir)
}

// result is how one run of the binary ended.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cli runs the command in a sandbox: its own config directory and
// functions root, and no MINCLOUD_* variables but those it is given.
type cli struct {
	t      *testing.T
	config string // XDG_CONFIG_HOME
	root   string // the working directory, the default --root
	env    []string
	stdin  string
	in     io.Reader // in-process: read instead of stdin when set
	binary bool      // run the built binary, not run in-process
	inDir  bool      // in-process: the test's working directory is root
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, config: t.TempDir(), root: t.TempDir()}
}

// connected is newCLI with the shared serve's host, id and secret in the
// environment.
func connected(t *testing.T) *cli {
	c := newCLI(t)
	c.env = []string{"MINCLOUD_HOST=" + hostURL, "MINCLOUD_CLIENT_ID=" + testClientID, "MINCLOUD_CLIENT_SECRET=" + testSecret}
	return c
}

// onBinary is c running the built binary, for the tests that run in
// parallel.
func (c *cli) onBinary() *cli {
	c.binary = true
	return c
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	if c.binary {
		return c.runBinary(args...)
	}
	// The environment the binary would get from cleanEnv and c.env.
	for _, k := range []string{envconf.ClientID, envconf.Host, envconf.EnvID, envconf.AuthToken, envconf.ClientSecret, "NO_COLOR"} {
		c.t.Setenv(k, "")
	}
	c.t.Setenv("XDG_CONFIG_HOME", c.config)
	c.t.Setenv("HOME", c.config)
	for _, kv := range c.env {
		k, v, _ := strings.Cut(kv, "=")
		c.t.Setenv(k, v)
	}
	if !c.inDir {
		c.t.Chdir(c.root)
		c.inDir = true
	}
	var out, errOut bytes.Buffer
	var in io.Reader = strings.NewReader(c.stdin)
	if c.in != nil {
		in = c.in
	}
	code := run(args, in, &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func (c *cli) runBinary(args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.root
	cmd.Env = append(cleanEnv(c.config), c.env...)
	cmd.Stdin = strings.NewReader(c.stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running mincloud %q: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}
