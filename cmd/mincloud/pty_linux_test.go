//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal: the side the test reads and writes, and
// the terminal the command gets.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err)
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlocking the pty: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("naming the pty: %v", errno)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	return master, tty
}

// ttyRun runs the binary with the streams named in onTTY ("stdin",
// "stdout", "stderr") on a terminal, the others on pipes, and input typed
// on the terminal. The terminal's output is in result.stdout or .stderr,
// whichever is on it (both when both are).
func (c *cli) ttyRun(onTTY []string, input string, args ...string) result {
	c.t.Helper()
	master, tty := openPTY(c.t)
	defer master.Close()
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.root
	cmd.Env = append(cleanEnv(c.config), c.env...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(""), &out, &errOut
	on := strings.Join(onTTY, " ")
	if strings.Contains(on, "stdin") {
		cmd.Stdin = tty
	}
	if strings.Contains(on, "stdout") {
		cmd.Stdout = tty
	}
	if strings.Contains(on, "stderr") {
		cmd.Stderr = tty
	}
	require.NoError(c.t, cmd.Start())
	tty.Close() // the child holds it now; the master reads EIO once it exits
	if input != "" {
		_, err := master.WriteString(input)
		require.NoError(c.t, err)
	}
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&screen, master)
		close(read)
	}()
	err := cmd.Wait()
	<-read
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	r := result{code: code, stdout: out.String(), stderr: errOut.String()}
	if strings.Contains(on, "stdout") {
		r.stdout = screen.String()
	}
	if strings.Contains(on, "stderr") {
		r.stderr = screen.String()
	}
	return r
}

func TestColourOnATerminalOnly(t *testing.T) {
	t.Parallel()
	c := connected(t).onBinary()
	r := c.ttyRun([]string{"stdout"}, "", "invoke", "fail")
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, "\x1b[31mfailed\x1b[0m (code 1)", "red on a terminal")

	c.env = append(c.env, "NO_COLOR=1")
	r = c.ttyRun([]string{"stdout"}, "", "invoke", "fail")
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, "failed (code 1)")
	assert.NotContains(t, r.stdout, "\x1b[", "NO_COLOR turns colour off")

	c = connected(t).onBinary()
	r = c.run("invoke", "fail")
	assert.Equal(t, 3, r.code, r)
	assert.Contains(t, r.stdout, "failed (code 1)")
	assert.NotContains(t, r.stdout+r.stderr, "\x1b[", "piped output stays plain")

	r = c.ttyRun([]string{"stderr"}, "", "invoke", "nope")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "\x1b[31merror:\x1b[0m 404: ")
}

func TestSpinnerWhileACallWaits(t *testing.T) {
	t.Parallel()
	c := connected(t).onBinary()
	r := c.ttyRun([]string{"stderr"}, "", "invoke", "slow", `{"ms":800}`)
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stderr, " running slow", "a spinner on the terminal")
	assert.True(t, strings.HasSuffix(r.stderr, "\r\x1b[K"), "and cleared: %q", r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "success\nresult:\n  \"done\"\nsummary:\n"), "stdout, a pipe, stays plain: %q", r.stdout)
}

func TestDeleteAsksOnATerminal(t *testing.T) {
	t.Parallel()
	c := connected(t).onBinary()
	require.Equal(t, 0, c.run("new", "askMe").code)
	require.Equal(t, 0, c.run("deploy", "askMe").code)

	r := c.ttyRun([]string{"stdin", "stderr"}, "n\n", "delete", "askMe")
	assert.Equal(t, 1, r.code, r)
	assert.Contains(t, r.stderr, "Delete function askMe? This cannot be undone. [y/N] ")
	assert.Contains(t, r.stderr, "\x1b[31merror:\x1b[0m not deleted")
	assert.Empty(t, r.stdout)

	r = c.ttyRun([]string{"stdin"}, "y\n", "delete", "askMe")
	assert.Equal(t, 0, r.code, r)
	assert.Equal(t, "deleted askMe\n", r.stdout)
	assert.Equal(t, 1, c.run("pull", "askMe").code, "it is gone")
}
