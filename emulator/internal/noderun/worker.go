package noderun

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one Node process running the bootstrap script. It serves one
// function version (key) for its whole life: blank until its first job.
type worker struct {
	p      *Pool
	n      int64 // the worker's number in its pool, for its processes' mark
	cmd    *exec.Cmd
	in     *os.File // fd 3 of the child: jobs go out here
	secret []byte   // "<secret> ": the start of every line the bootstrap sends

	exited chan struct{} // the process has ended (exitErr set)
	done   chan struct{} // and its output has been read to the end
	ready  chan struct{} // the bootstrap said R

	// Set before exited closes.
	exitErr error

	rawMu    sync.Mutex
	raw      [2]rawLine     // the lines being read from stdout and stderr
	rawPipes [2]*os.File    // their read ends
	rawBusy  [2]atomic.Bool // a reader has bytes in hand

	mu     sync.Mutex
	key    string    // the function version it serves; "" while blank
	job    *call     // the running call; nil between jobs
	broken string    // why the emulator ended the worker, if it did
	fatal  *lastWord // the last words the bootstrap sent, if any
	oom    bool      // V8 reported a heap out of memory
	oomMem int64     // the heap V8 last reported, bytes, when it ran out
	idleAt time.Time

	checking chan string // a syntax check's answer, while one runs
	checkID  int64
}

// call is a job given to a worker.
type call struct {
	id      int64
	log     func(LogLine)
	acked   chan struct{} // closed at "A"
	answer  chan answer   // gets "D" or "F"
	timeout time.Duration
	onStart func(time.Time)
	noAck   chan struct{} // closed when no "A" came in time
	expired chan struct{} // closed at the deadline

	mu           sync.Mutex
	started      time.Time
	ackTimer     *time.Timer
	afterFunc    func(time.Duration, func()) func() bool // the pool's clock, for the deadline
	stopDeadline func() bool
	set          *fnSet // the worker's set, for the reader's hand-over
	ended        bool   // the reader (at the answer) or runOn ended the call
}

// end claims the call's end for whichever of the reader (at the answer)
// and runOn (at a deadline, a death, a cancel) comes first; false when
// the other did.
func (c *call) end() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.ended = true
	return true
}

// newCall is a call of job, not yet given to a worker.
func newCall(job *Job, afterFunc func(time.Duration, func()) func() bool) *call {
	c := &call{id: job.ID, log: job.Log, acked: make(chan struct{}), answer: make(chan answer, 1),
		timeout: job.Timeout, onStart: job.Started, noAck: make(chan struct{}), expired: make(chan struct{}), afterFunc: afterFunc}
	if c.log == nil {
		c.log = func(LogLine) {}
	}
	return c
}

// deliver gives c to w and writes its line. The write is bounded: a
// worker that does not read (stopped, spinning in a timer) must not hold
// the job, nor Close; one that does not acknowledge the job in time
// loses it (noAck).
func (w *worker) deliver(c *call, line []byte) error {
	w.mu.Lock()
	w.job = c
	w.mu.Unlock()
	c.mu.Lock()
	c.ackTimer = time.AfterFunc(ackTimeout, func() { close(c.noAck) })
	c.mu.Unlock()
	w.in.SetWriteDeadline(time.Now().Add(ackTimeout))
	if _, err := w.in.Write(line); err != nil {
		return err
	}
	c.sent()
	return nil
}

// jobTaken says whether the worker has read all that was written to it:
// an unacknowledged job it has read is running (the acknowledgement comes
// with the job's first line); one it has not is stuck in a damaged worker.
// Where the pipe cannot be asked, only an acknowledgement counts.
func (w *worker) jobTaken() bool {
	return peekPipes && unread(w.in) == 0
}

// ack records that the worker acknowledged the job (it was not lost to a
// damaged worker); the job's clock started already, in sent. The reader
// calls it.
func (c *call) ack() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ackTimer != nil {
		c.ackTimer.Stop()
	}
	if !isClosed(c.acked) {
		close(c.acked)
	}
}

// sent starts the job's clock as its line has gone to an idle worker,
// which reads it at once (one that does not, damaged, loses the job:
// see runOn).
func (c *call) sent() {
	now := time.Now()
	c.mu.Lock()
	c.started = now
	if c.timeout > 0 {
		c.stopDeadline = c.afterFunc(c.timeout, func() { close(c.expired) })
	}
	c.mu.Unlock()
	if c.onStart != nil {
		c.onStart(now)
	}
}

func (c *call) startedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

// stop stops the call's timers.
func (c *call) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ackTimer != nil {
		c.ackTimer.Stop()
	}
	if c.stopDeadline != nil {
		c.stopDeadline()
	}
}

// result is the job's result from its answer.
func (c *call) result(a answer) *Result {
	res := &Result{Mem: a.mem, Started: c.startedAt()}
	if a.ok {
		res.Data = a.data
	} else {
		res.Code, res.Error = 1, a.err
	}
	return res
}

type answer struct {
	ok   bool
	mem  int64
	data []byte     // ok
	err  *ErrorInfo // !ok
}

// lastWord is why the bootstrap says it is about to die.
type lastWord struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Stack   string `json:"stack"`
}

// start launches a worker and waits for its "R". Its settings go on fd 5,
// a pipe the bootstrap reads to its end and closes before any function
// runs: the secret in them never reaches a function.
func (p *Pool) start(n int64) (*worker, error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	inR, inW, err1 := pipe()
	outR, outW, err2 := pipe()
	errR, errW, err3 := pipe()
	stdR, stdW, err4 := pipe()
	setR, setW, err5 := pipe()
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		closeAll()
		return nil, err
	}
	secret := make([]byte, 24)
	rand.Read(secret)
	w := &worker{p: p, n: n, in: inW, secret: []byte(hex.EncodeToString(secret) + " "),
		exited: make(chan struct{}), done: make(chan struct{}), ready: make(chan struct{})}
	settings, _ := json.Marshal(map[string]any{
		"secret": hex.EncodeToString(secret), "url": p.cfg.URL, "clientId": p.cfg.ClientID,
		"callerHeader": p.cfg.CallerHeader, "callerKey": p.cfg.CallerKey,
		"syncTimeoutMs": p.cfg.SyncTimeout.Milliseconds(), "maxResult": p.maxResult(), "maxLog": maxLogText,
		"lazyAck": peekPipes,
	})
	// A pipe holds 64 KiB: the settings go in before the start, whole.
	if _, err := setW.Write(settings); err != nil {
		closeAll()
		return nil, err
	}
	setW.Close()
	cmd := exec.Command(p.cfg.Node, p.nodeArgs()...)
	cmd.Env = append(childEnv(), markVar+"="+p.mark(n))
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = stdW, errW
	cmd.ExtraFiles = []*os.File{inR, outW, setR} // fds 3, 4, 5
	configure(cmd)
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, fmt.Errorf("cannot start %s: %w", p.cfg.Node, err)
	}
	w.cmd = cmd
	w.rawPipes = [2]*os.File{stdR, errR}
	addWorker(cmd.Process.Pid)
	for _, f := range []*os.File{inR, outW, setR, stdW, errW} {
		f.Close() // the child's ends
	}
	var readers sync.WaitGroup
	readers.Add(3)
	go func() { defer readers.Done(); w.readAnswers(outR) }()
	go func() { defer readers.Done(); w.readOutput(stdR, "INFO") }()
	go func() { defer readers.Done(); w.readOutput(errR, "ERROR") }()
	go func() {
		w.exitErr = cmd.Wait()
		dropWorker(cmd.Process.Pid)
		close(w.exited)
		// What the process wrote before it ended is in the pipes; a
		// descendant that inherited them must not hold the worker's end.
		grace := time.Now().Add(outputGrace)
		for _, f := range []*os.File{outR, stdR, errR} {
			f.SetReadDeadline(grace)
		}
		readers.Wait()
		for _, f := range []*os.File{outR, stdR, errR} {
			f.Close()
		}
		close(w.done)
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case <-w.ready:
		return w, nil
	case <-w.exited:
	case <-t.C:
	}
	w.kill()
	<-w.done
	return nil, fmt.Errorf("node did not start: %s", w.why())
}

// outputGrace is how long a dead worker's pipes are read after it ended.
const outputGrace = 200 * time.Millisecond

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

// errProtocol words a worker ended for a line that was not the protocol.
const errProtocol = "protocol broken: the Node worker sent a line that is not the emulator's protocol " +
	"(did the function write to the worker's descriptors?); the worker was stopped"

// readAnswers reads the bootstrap's lines for as long as the worker lives.
// Any line without the worker's secret, or out of step, ends the worker.
func (w *worker) readAnswers(r io.Reader) {
	rd := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(rd, w.p.maxLine())
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				w.breakOff(errProtocol + ": a line longer than " + strconv.Itoa(w.p.maxLine()) + " bytes")
			}
			io.Copy(io.Discard, r)
			return
		}
		if why := w.handle(line); why != "" {
			w.breakOff(errProtocol + ": " + why)
			io.Copy(io.Discard, r)
			return
		}
	}
}

// handle acts on one line; it returns why the line breaks the protocol.
func (w *worker) handle(line []byte) string {
	rest, ok := bytes.CutPrefix(line, w.secret)
	if !ok {
		return "a line without the worker's secret"
	}
	rest = bytes.TrimSuffix(rest, []byte("\n"))
	kind, rest, _ := bytes.Cut(rest, []byte(" "))
	if string(kind) == "R" {
		select {
		case <-w.ready:
			return "a second ready"
		default:
			close(w.ready)
		}
		return ""
	}
	idText, rest, _ := bytes.Cut(rest, []byte(" "))
	id, err := strconv.ParseInt(string(idText), 10, 64)
	if err != nil {
		return "a line without a job id"
	}
	w.mu.Lock()
	c := w.job
	w.mu.Unlock()
	mine := c != nil && c.id == id
	switch string(kind) {
	case "A":
		if !mine {
			return "an acknowledgement of a job it was not given"
		}
		c.ack() // perhaps taken as read already
	case "L":
		l, ok := parseLog(rest)
		if !ok {
			return "an unreadable log line"
		}
		switch {
		case mine:
			c.log(l)
		case id != 0 && w.p.cfg.Late != nil:
			w.p.cfg.Late(id, l) // code an ended job left behind
		}
	case "N":
		var text string
		if json.Unmarshal(rest, &text) != nil {
			return "an unreadable note"
		}
		if !mine && id != 0 && w.p.cfg.Late != nil {
			w.p.cfg.Late(id, LogLine{Time: time.Now(), Level: "WARN", Message: text})
		}
	case "D", "F":
		if !mine || !isClosed(c.acked) {
			return "an answer for a job it was not running"
		}
		memText, data, _ := bytes.Cut(rest, []byte(" "))
		mem, err := strconv.ParseInt(string(memText), 10, 64)
		if err != nil {
			return "an answer without its memory"
		}
		a := answer{ok: kind[0] == 'D', mem: mem}
		if a.ok {
			if !json.Valid(data) {
				return "an answer that is not JSON"
			}
			a.data = bytes.Clone(data)
		} else {
			a.err = new(ErrorInfo)
			if json.Unmarshal(data, a.err) != nil || a.err.Type == "" {
				return "an unreadable failure"
			}
		}
		if len(c.answer) > 0 {
			return "a second answer"
		}
		// The worker is free: it goes to the next job of its function now,
		// from here, rather than after its caller's goroutine wakes.
		if c.end() {
			w.free(c)
		}
		c.answer <- a
	case "C":
		var report string
		if json.Unmarshal(rest, &report) != nil {
			return "an unreadable check"
		}
		w.mu.Lock()
		ch := w.checking
		ok := ch != nil && w.checkID == id
		w.checking = nil
		w.mu.Unlock()
		if !ok {
			return "the answer to a check it was not given"
		}
		ch <- report
	case "X":
		var lw lastWord
		if json.Unmarshal(rest, &lw) != nil {
			return "unreadable last words"
		}
		w.mu.Lock()
		w.fatal = &lw
		w.mu.Unlock()
	default:
		return "a line of unknown kind"
	}
	return ""
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// breakOff ends a worker that broke the protocol.
func (w *worker) breakOff(why string) {
	w.mu.Lock()
	if w.broken == "" {
		w.broken = why
	}
	w.mu.Unlock()
	w.kill()
}

// parseLog reads "<time> <LEVEL> <message as a JSON string>".
func parseLog(b []byte) (LogLine, bool) {
	ts, rest, _ := bytes.Cut(b, []byte(" "))
	level, msg, _ := bytes.Cut(rest, []byte(" "))
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return LogLine{}, false
	}
	// JSON.stringify escapes only as Go's strconv.Unquote reads too, apart
	// from lone surrogates: those fall back to the JSON decoder, which
	// the common case then does without.
	text, err := strconv.Unquote(string(msg))
	if err != nil && json.Unmarshal(msg, &text) != nil {
		return LogLine{}, false
	}
	switch string(level) {
	case "INFO", "WARN", "ERROR", "DEBUG":
	default:
		return LogLine{}, false
	}
	return LogLine{Time: t, Level: string(level), Message: text}, true
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line of up to max bytes.
func readLine(rd *bufio.Reader, max int) ([]byte, error) {
	line, err := rd.ReadSlice('\n')
	if err == nil {
		return line, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	buf := append([]byte(nil), line...)
	for {
		line, err = rd.ReadSlice('\n')
		buf = append(buf, line...)
		if len(buf) > max {
			return nil, errLineTooLong
		}
		if err == nil {
			return buf, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// maxLogText caps one log message, in characters, as the bootstrap cuts
// it: a job's record keeps 1 MiB of log in all.
const maxLogText = 1 << 20

// maxRawLine caps a line written straight to stdout or stderr: the rest
// of a longer one is dropped, and the reader goes on.
const maxRawLine = 1 << 20

// heapReport is V8's trace of a garbage collection, printed as the heap
// runs out: "... Mark-Compact 250.1 (258.6) -> 249.8 (258.6) MB ...".
var heapReport = regexp.MustCompile(`-> [0-9.]+ \(([0-9.]+)\) MB`)

// rawLine is a line being read from stdout or stderr: it belongs to the
// job that ran when it began.
type rawLine struct {
	text  []byte
	owner *call
	cut   bool // longer than maxRawLine: the rest was dropped
	open  bool // begun
}

// readOutput turns what the process writes to stdout or stderr outside
// the bootstrap's hooks (native code, V8's own reports, a function's
// writes straight to fd 1 or 2) into log lines, each of the job that ran
// when it began. A line of any length is read through; only its first
// maxRawLine bytes are kept.
func (w *worker) readOutput(r io.Reader, level string) {
	buf := make([]byte, 32<<10)
	i := 0
	if level == "ERROR" {
		i = 1
	}
	l, busy := &w.raw[i], &w.rawBusy[i]
	for {
		n, err := r.Read(buf)
		busy.Store(true)
		chunk := buf[:n]
		w.rawMu.Lock()
		for len(chunk) > 0 {
			if !l.open {
				l.open, l.owner = true, w.current()
			}
			part, rest, full := bytes.Cut(chunk, []byte("\n"))
			if room := maxRawLine - len(l.text); len(part) > room {
				part, l.cut = part[:room], true
			}
			l.text = append(l.text, part...)
			if !full {
				break
			}
			chunk = rest
			w.emitRaw(l, level)
		}
		if err != nil {
			if l.open {
				w.emitRaw(l, level)
			}
			w.rawMu.Unlock()
			busy.Store(false)
			return
		}
		w.rawMu.Unlock()
		busy.Store(false)
	}
}

// flushRaw ends the lines that c began and did not end: a line without
// a newline belongs to its own job, never to the next one.
func (w *worker) flushRaw(c *call) {
	// What the job wrote is in the pipes before its answer: let the
	// readers take it first (briefly; a child may keep writing).
	for wait := 0; wait < 100; wait++ {
		if !w.rawBusy[0].Load() && !w.rawBusy[1].Load() && unread(w.rawPipes[0]) == 0 && unread(w.rawPipes[1]) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.rawMu.Lock()
	defer w.rawMu.Unlock()
	for i, level := range [2]string{"INFO", "ERROR"} {
		if l := &w.raw[i]; l.open && l.owner == c {
			w.emitRaw(l, level)
		}
	}
}

// emitRaw gives a finished raw line to its job and starts the next;
// rawMu is held.
func (w *worker) emitRaw(l *rawLine, level string) {
	text, owner, cut := string(l.text), l.owner, l.cut
	l.text, l.owner, l.cut, l.open = l.text[:0], nil, false, false
	if m := heapReport.FindStringSubmatch(text); m != nil {
		if mb, err := strconv.ParseFloat(m[1], 64); err == nil {
			w.mu.Lock()
			w.oomMem = int64(mb * (1 << 20))
			w.mu.Unlock()
		}
	}
	w.mu.Lock()
	if strings.Contains(text, "<--- Last few GCs --->") || strings.Contains(text, "JavaScript heap out of memory") ||
		strings.Contains(text, "Reached heap limit") {
		w.oom = true
	}
	oom := w.oom
	w.mu.Unlock()
	if oom || strings.TrimSpace(text) == "" {
		return // after an out-of-memory, V8's report and native stack: the job's error says it
	}
	if cut {
		text += fmt.Sprintf(" … (cut: the line was longer than %d bytes)", maxRawLine)
	}
	line := LogLine{Time: time.Now(), Level: level, Message: text}
	switch {
	case owner == nil:
	case owner == w.current():
		owner.log(line)
	case w.p.cfg.Late != nil:
		w.p.cfg.Late(owner.id, line)
	}
}

// free ends c on w, which answered it, and hands w on: c's raw output
// is c's, then w goes to the next waiter of its function or idles.
func (w *worker) free(c *call) {
	c.stop()
	w.flushRaw(c)
	w.mu.Lock()
	if w.job == c {
		w.job = nil
	}
	w.mu.Unlock()
	c.mu.Lock()
	set := c.set
	c.mu.Unlock()
	w.p.release(w, set)
}

// current is the running call, or nil.
func (w *worker) current() *call {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.job
}

// kill stops the process and every process of its group.
func (w *worker) kill() {
	w.in.Close()
	kill(w.cmd)
}

// stop asks the worker to end (closing its input ends the bootstrap),
// kills it if it does not within a moment, and ends what it started.
func (w *worker) stop() {
	w.in.Close()
	select {
	case <-w.exited:
	case <-time.After(time.Second):
	}
	w.kill()
	<-w.done
	w.p.endDescendants(w.p.mark(w.n))
}

// why says why the process ended, for a job it was running; call it after
// done has closed.
func (w *worker) why() string {
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.broken != "":
		return w.broken
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
