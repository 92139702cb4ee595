package nodebin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestFindRefusesWhatIsNotNode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses shell scripts")
	}
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("root:x:0:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{plain, "is not executable"},
		{dir, "is a folder"},
		{script("true", "exit 0"), "is not Node.js: `" + dir + "/true --version` printed nothing"},
		{script("python", "echo Python 3.11.2"), `printed "Python 3.11.2"`},
		{script("old", "echo v10.24.1"), "is Node.js v10.24.1, which the emulator cannot run"},
		{filepath.Join(dir, "missing"), "was not found"},
	} {
		_, err := Find(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Find(%s) = %v, want an error containing %q", c.path, err, c.want)
		}
		if err != nil && c.want != "was not found" && strings.Contains(err.Error(), "not found") {
			t.Errorf("Find(%s) says not found for a file that exists: %v", c.path, err)
		}
		if err != nil && c.want != "was not found" && c.want != "is not executable" && c.want != "is a folder" &&
			!strings.Contains(err.Error(), Supported) {
			t.Errorf("Find(%s) does not say which versions work: %v", c.path, err)
		}
	}
}

func TestFindAcceptsNodeOnceAndHonoursMINCLOUD_NODE(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "mynode")
	count := filepath.Join(dir, "count")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho x >> "+count+"\necho v20.1.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MINCLOUD_NODE", fake)
	for range 3 {
		n, err := Find("")
		if err != nil {
			t.Fatal(err)
		}
		if n.Path != fake || n.Version != "v20.1.0" {
			t.Fatalf("Find = %+v", n)
		}
	}
	b, _ := os.ReadFile(count)
	if got := strings.Count(string(b), "x"); got != 1 {
		t.Errorf("node --version ran %d times, want once", got)
	}
	// The option wins over the variable.
	if _, err := Find(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "given to emulator.WithNode") {
		t.Errorf("the option's path was not the one checked: %v", err)
	}
	if node, err := exec.LookPath("node"); err == nil {
		t.Setenv("MINCLOUD_NODE", "")
		n, err := Find("")
		if err != nil || n.Path != node || !strings.HasPrefix(n.Version, "v") {
			t.Errorf("Find on PATH = %+v, %v; want %s", n, err, node)
		}
	}
}
