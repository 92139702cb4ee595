package noderun

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// message is a line a worker sends as JSON: "ready", a failed job's
// answer, or the reason it is about to die. Log lines and successful
// answers come as the shorter "L ..." and "D ..." lines.
type message struct {
	T     string          `json:"t"`
	ID    int64           `json:"id"`
	Mem   int64           `json:"mem"`
	Code  int             `json:"code"`
	Data  json.RawMessage `json:"data"`
	Error *ErrorInfo      `json:"error"`
	// fatal
	Message string `json:"message"`
	Type    string `json:"type"`
	Stack   string `json:"stack"`
}

// worker is one Node process running the bootstrap script.
type worker struct {
	cmd *exec.Cmd
	in  *os.File      // fd 3 of the child: jobs go out here
	out *os.File      // fd 4 of the child: answers come back here
	rd  *bufio.Reader // reads out; used by one job at a time
	// A job handed over by put: its run line has been written, with
	// this outcome. Used by the one job that owns the worker.
	sent    bool
	sendErr error
	dead    chan struct{} // closed once the process has exited and its stdout and stderr are read
	// set before dead closes
	exitErr error
	fatal   *message // the last words the bootstrap sent, if any
	oom     bool     // V8 reported a heap out of memory

	last string // the function of the worker's last job; set by the job that holds it

	mu     sync.Mutex
	logTo  func(LogLine) // the running job's log, nil between jobs
	idleAt time.Time
}

// start launches a worker and waits for its "ready".
func (p *Pool) start() (*worker, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(p.cfg.Node, p.nodeArgs()...)
	cmd.Env = childEnv()
	cmd.Dir = p.dir
	cmd.ExtraFiles = []*os.File{inR, outW}
	closeAll := func() {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		closeAll()
		stdout.Close()
		return nil, err
	}
	configure(cmd)
	if err := cmd.Start(); err != nil {
		closeAll() // Start closes the stdout and stderr pipes itself
		return nil, fmt.Errorf("cannot start %s: %w", p.cfg.Node, err)
	}
	inR.Close()
	outW.Close()
	w := &worker{cmd: cmd, in: inW, out: outR, rd: bufio.NewReaderSize(outR, 64<<10), dead: make(chan struct{})}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); w.readOutput(stdout, "INFO") }()
	go func() { defer readers.Done(); w.readOutput(stderr, "ERROR") }()
	go func() {
		readers.Wait()
		w.exitErr = cmd.Wait()
		close(w.dead)
	}()
	initMsg, _ := json.Marshal(map[string]any{
		"t": "init", "url": p.cfg.URL, "clientId": p.cfg.ClientID,
		"callerHeader": p.cfg.CallerHeader, "callerKey": p.cfg.CallerKey,
		"syncTimeoutMs": p.cfg.SyncTimeout.Milliseconds(),
	})
	if _, err := w.in.Write(append(initMsg, '\n')); err != nil {
		w.kill()
		outR.Close()
		return nil, fmt.Errorf("node did not start: %s", w.why())
	}
	t := time.AfterFunc(startTimeout, w.kill)
	m, err := w.next()
	t.Stop()
	if err == nil && m.T == "ready" {
		return w, nil
	}
	w.kill()
	outR.Close()
	return nil, fmt.Errorf("node did not start: %s", w.why())
}

// startTimeout bounds a worker's start-up; Node starts in well under it.
const startTimeout = 20 * time.Second

func (p *Pool) nodeArgs() []string {
	args := append([]string{}, p.cfg.NodeArgs...)
	if p.cfg.MemoryLimitMB > 0 {
		args = append(args, fmt.Sprintf("--max-old-space-size=%d", p.cfg.MemoryLimitMB))
	}
	return append(args, p.script)
}

// childEnv is the little of the emulator's environment a function sees:
// no credentials of the emulator's own process leak into it.
func childEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TEMP", "TMP", "SystemRoot", "USERPROFILE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// next reads the bootstrap's lines up to the next one that is neither a
// log line (those go to the running job) nor a last word (kept for why).
// An error means the worker is gone or out of step.
func (w *worker) next() (message, error) {
	for {
		line, err := w.readLine()
		if err != nil {
			return message{}, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		var m message
		switch {
		case bytes.HasPrefix(line, []byte("L ")):
			w.logLine(line[2:])
			continue
		case bytes.HasPrefix(line, []byte("D ")):
			m, err = parseDone(line[2:])
		default:
			err = json.Unmarshal(line, &m)
		}
		if err != nil {
			return message{}, fmt.Errorf("unreadable message from the Node worker: %w", err)
		}
		switch m.T {
		case "fatal":
			mm := m
			w.mu.Lock()
			w.fatal = &mm
			w.mu.Unlock()
		default:
			return m, nil
		}
	}
}

// logLine reads "<time> <LEVEL> <message as a JSON string>".
func (w *worker) logLine(b []byte) {
	ts, rest, _ := bytes.Cut(b, []byte(" "))
	level, msg, _ := bytes.Cut(rest, []byte(" "))
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		t = time.Now()
	}
	// JSON.stringify escapes only as Go's strconv.Unquote reads too, apart
	// from lone surrogates: those fall back to the JSON decoder, which
	// the common case then does without.
	text, err := strconv.Unquote(string(msg))
	if err != nil && json.Unmarshal(msg, &text) != nil {
		text = string(msg)
	}
	w.log(LogLine{Time: t, Level: string(level), Message: text})
}

// parseDone reads "<id> <mem> 0 <data as JSON>", a success.
func parseDone(b []byte) (message, error) {
	f := bytes.SplitN(b, []byte(" "), 4)
	if len(f) != 4 || string(f[2]) != "0" {
		return message{}, errors.New("bad answer line")
	}
	id, err1 := strconv.ParseInt(string(f[0]), 10, 64)
	mem, err2 := strconv.ParseInt(string(f[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return message{}, errors.New("bad answer line")
	}
	return message{T: "done", ID: id, Mem: mem, Data: bytes.Clone(f[3])}, nil
}

// readLine reads one line of up to maxLine bytes.
func (w *worker) readLine() ([]byte, error) {
	line, err := w.rd.ReadSlice('\n')
	if err == nil {
		return line, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	buf := append([]byte(nil), line...)
	for {
		line, err = w.rd.ReadSlice('\n')
		buf = append(buf, line...)
		if len(buf) > maxLine {
			return nil, errors.New("a message from the Node worker is too long")
		}
		if err == nil {
			return buf, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// maxKeptBuf bounds a run line buffer kept for reuse, and a line that put
// writes for a waiting job.
const maxKeptBuf = 64 << 10

// maxLine caps one message (a result of up to the emulator's body limit
// and then some).
const maxLine = 64 << 20

// readOutput turns what the process writes to stdout or stderr outside
// the bootstrap's hooks (native code, V8's own reports) into log lines.
func (w *worker) readOutput(r io.Reader, level string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	oom := false
	for sc.Scan() {
		line := sc.Text()
		if oom {
			continue // V8's report and native stack: the job's error says it
		}
		if strings.Contains(line, "JavaScript heap out of memory") || strings.Contains(line, "Reached heap limit") {
			oom = true
			w.mu.Lock()
			w.oom = true
			w.mu.Unlock()
			continue
		}
		if strings.TrimSpace(line) != "" {
			w.log(LogLine{Level: level, Message: line})
		}
	}
	io.Copy(io.Discard, r)
}

func (w *worker) log(l LogLine) {
	if l.Time.IsZero() {
		l.Time = time.Now()
	}
	w.mu.Lock()
	f := w.logTo
	w.mu.Unlock()
	if f != nil {
		f(l)
	}
}

func (w *worker) setLog(f func(LogLine)) {
	w.mu.Lock()
	w.logTo = f
	w.mu.Unlock()
}

// kill stops the process; dead closes once it is gone.
func (w *worker) kill() {
	w.in.Close()
	kill(w.cmd)
}

// release closes the Go side's end of the answers pipe, once no job reads
// it any more.
func (w *worker) release() { w.out.Close() }

// stop asks the worker to end (closing its input ends the bootstrap) and
// kills it if it does not within a moment.
func (w *worker) stop() {
	w.in.Close()
	select {
	case <-w.dead:
	case <-time.After(time.Second):
		w.kill()
		<-w.dead
	}
	w.release()
}

// why says why the process ended, for a job it was running; call it after
// dead has closed.
func (w *worker) why() string {
	<-w.dead
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.oom:
		return "" // the caller words this with the limit
	case w.fatal != nil:
		return w.fatal.Message
	}
	var ee *exec.ExitError
	if errors.As(w.exitErr, &ee) {
		return "the Node process ended: " + strings.TrimPrefix(ee.Error(), "exit status ")
	}
	if w.exitErr != nil {
		return "the Node process ended: " + w.exitErr.Error()
	}
	return "the Node process ended"
}
