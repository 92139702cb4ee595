package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// isTerminal reports whether s is a terminal (a console on Windows).
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// colourAllowed follows https://no-color.org: any non-empty NO_COLOR
// turns colour off, as does a dumb terminal.
func colourAllowed() bool { return os.Getenv("NO_COLOR") == "" && !dumbTerminal() }

func dumbTerminal() bool { return os.Getenv("TERM") == "dumb" }

// style colours text with ANSI escapes when on.
type style struct{ on bool }

func (s style) wrap(code, text string) string {
	if !s.on {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) red(t string) string   { return s.wrap("31", t) }
func (s style) green(t string) string { return s.wrap("32", t) }
func (s style) bold(t string) string  { return s.wrap("1", t) }

// spinnerDelay is how long a call may wait before a spinner shows: quick
// calls stay quiet.
const spinnerDelay = 300 * time.Millisecond

// spin shows a spinner with msg on w while a call waits longer than
// spinnerDelay, if on; the returned stop clears it and must be called
// before anything else is written.
func spin(on bool, w io.Writer, msg string) (stop func()) {
	if !on {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
			return
		case <-time.After(spinnerDelay):
		}
		frames := `|/-\`
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(w, "\r%c %s", frames[i%len(frames)], msg)
			select {
			case <-done:
				fmt.Fprint(w, "\r\x1b[K") // clear the line
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

// during runs fn with a spinner saying msg.
func during[T any](a *app, msg string, fn func() (T, error)) (T, error) {
	stop := spin(a.spinnerOK, a.stderr, msg)
	defer stop()
	return fn()
}
