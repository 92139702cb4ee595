package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"sync"
	"time"
)

// checkScript parses each file named on its input as Node loads a
// CommonJS module, without running it, and answers one JSON line: "" when
// the file parses, else the error's stack, which starts as `node --check`
// prints it ("<file>:<line>", the code, a caret, "SyntaxError: ...").
const checkScript = `
const fs = require('fs'), vm = require('vm'), rl = require('readline')
const args = ['exports', 'require', 'module', '__filename', '__dirname']
rl.createInterface({ input: process.stdin }).on('line', line => {
  let out = ''
  try {
    const file = JSON.parse(line)
    vm.compileFunction(fs.readFileSync(file, 'utf8'), args, { filename: file })
  } catch (e) {
    out = String(e && e.stack || e)
  }
  process.stdout.write(JSON.stringify(out) + '\n')
})
`

// jsChecker is one Node process that parses the functions' files for the
// emulator's syntax checks: one Node start per emulator, not one per
// registration.
type jsChecker struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// checkSyntax parses file with Node; failed says it does not parse, out
// is Node's report. Without Node, or when Node cannot say in time, the
// file counts as parsing: its calls will tell.
func (s *Server) checkSyntax(file string) (out string, failed bool) {
	node := s.nodeExe()
	if node == "" {
		return "", false
	}
	c := &s.js.checker
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		cmd := exec.Command(node, "-e", checkScript)
		cmd.Env = []string{}
		in, err1 := cmd.StdinPipe()
		stdout, err2 := cmd.StdoutPipe()
		if err1 != nil || err2 != nil || cmd.Start() != nil {
			return "", false
		}
		c.cmd, c.in, c.out = cmd, in, bufio.NewReader(stdout)
	}
	name, _ := json.Marshal(file)
	answer := make(chan string, 1)
	in, rd := c.in, c.out
	go func() {
		var text string
		if _, err := in.Write(append(name, '\n')); err == nil {
			line, err := rd.ReadBytes('\n')
			if err == nil && json.Unmarshal(line, &text) == nil {
				answer <- text
				return
			}
		}
		close(answer)
	}()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	select {
	case text, ok := <-answer:
		if ok {
			return text, text != ""
		}
	case <-ctx.Done():
	}
	c.stopLocked() // out of step: the next check starts a new one
	return "", false
}

// stop ends the checker's process.
func (c *jsChecker) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked()
}

func (c *jsChecker) stopLocked() {
	if c.cmd == nil {
		return
	}
	c.in.Close()
	c.cmd.Process.Kill()
	c.cmd.Wait()
	c.cmd = nil
}
