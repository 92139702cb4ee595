package baas

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// errorBodyCap bounds how much of a failed answer is read: enough for any
// error_msg, never a whole runaway page.
const errorBodyCap = 64 << 10

// exchange is one call's request, sent by [Client.send].
type exchange struct {
	fn      string // the function or the step, for logs
	method  string
	url     string
	body    []byte // nil: no body
	timeout time.Duration
	// limit names the setting behind timeout, for a 601's text, e.g.
	// "the sync call limit, WithSyncTimeout".
	limit string
	// into, when set, receives a 2xx answer decoded as a Result (the
	// answer's body then belongs to it); a body that does not decode fails
	// the attempt, for good.
	into *Result
	// bearer sends the Open API access token, and on a 401 renews it and
	// sends the call once more: the server refused it, so it did not run.
	bearer bool
	// op is the public method the call came through, for the Observer;
	// empty for the access token's steps, which are part of an attempt.
	op   Operation
	sync bool // an invoke's sync flag, for the Observer
	// header holds what the Observer adds to every attempt.
	header http.Header
}

// verdict is what an attempt says about sending the call again.
type verdict struct {
	retry retryKind
	wait  time.Duration // with resend: the least wait the server asked for
}

type retryKind uint8

const (
	final      retryKind = iota // the call may have run, or cannot succeed
	resend                      // it provably did not run: send again after a backoff
	renewToken                  // 401 with a bearer token: renew it, send once more at once
)

var stop = verdict{retry: final}

// answer is a 2xx answer read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send is the one place requests go out. It applies the deadline from the
// start of the call to the last byte of the answer, retries only what
// provably did not run, logs one record per attempt, tells the client's
// Observer of a public call (ex.op set), and turns every failure into an
// *HError (a non-2xx answer included: resty does not).
func (c *Client) send(ctx context.Context, ex exchange) (*answer, error) {
	callStart := time.Now()
	var oc *observedCall
	if c.obs != nil && ex.op != "" {
		oc = c.startObserved(ctx, &ex, callStart)
		ctx = oc.ctx
	}
	// A caller's earlier deadline already bounds the call; a context of
	// our own would only cost allocations. own says whose deadline it is.
	own := false
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > ex.timeout {
		own = true
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ex.timeout)
		defer cancel()
	}

	renewed := false
	for attempt, retries := 1, 0; ; attempt++ {
		start := time.Now()
		ans, nx, err := c.attempt(ctx, &ex)
		c.logAttempt(ctx, &ex, attempt, start, ans, err)
		again, wait := false, time.Duration(0)
		if err != nil {
			switch {
			case nx.retry == renewToken && !renewed:
				renewed, again = true, true
			case nx.retry == resend && retries < c.cfg.retries:
				retries++
				wait = backoff(retries, nx.wait)
				// The deadline comes before the next try could end: the
				// last failure is the honest answer.
				again = !deadlineWithin(ctx, wait)
			}
		}
		if oc != nil {
			oc.attempted(AttemptInfo{N: attempt, Start: start, End: time.Now(), StatusCode: statusOf(ans, err),
				Err: err, Retry: again, Wait: wait})
		}
		switch {
		case err == nil:
			if oc != nil {
				oc.end(ans, nil, ex.into)
			}
			return ans, nil
		case again && (wait == 0 || sleep(ctx, wait)):
			continue
		}
		err = explainTimeout(err, &ex, callStart, own)
		if oc != nil {
			oc.end(nil, err, nil)
		}
		return nil, err
	}
}

// explainTimeout adds to a bare 601 what timed out and which deadline
// passed: the SDK's own (own, ex.timeout) or the caller's context's.
func explainTimeout(err error, ex *exchange, start time.Time, own bool) error {
	he, ok := err.(*HError)
	if !ok || he.Code != CodeTimeout || he.Message != defaultText(CodeTimeout) {
		return err
	}
	what := "the call"
	if ex.fn != "" {
		what = strconv.Quote(ex.fn)
	}
	out := *he
	if own {
		out.Message += ": " + what + " did not answer within its " + ex.timeout.String() + " deadline"
		if ex.limit != "" {
			out.Message += " (" + ex.limit + ")"
		}
	} else {
		out.Message += ": " + what + " did not answer before the context's deadline, " +
			time.Since(start).Round(time.Millisecond).String() + " after the call started"
	}
	return &out
}

// attempt sends once, and says whether the call may be sent again.
func (c *Client) attempt(ctx context.Context, ex *exchange) (ans *answer, nx verdict, err error) {
	req := c.rc.R().SetContext(ctx).SetDoNotParseResponse(true)
	if ex.body != nil {
		req.SetBody(bytes.NewReader(ex.body))
	}
	for k, v := range ex.header {
		// The SDK's own headers are not the observer's to change.
		k = http.CanonicalHeaderKey(k)
		if _, own := c.rc.Header[k]; !own && k != "Authorization" {
			req.Header[k] = v
		}
	}
	var token string
	if ex.bearer {
		if token, err = c.tokens.get(ctx); err != nil {
			return nil, stop, err
		}
		req.SetHeader("Authorization", "Bearer "+token)
	}
	resp, err := req.Execute(ex.method, ex.url)
	if err != nil {
		if ctx.Err() == nil && neverConnected(err) {
			return nil, verdict{retry: resend}, transportError(ctx, err)
		}
		return nil, stop, transportError(ctx, err)
	}
	raw := resp.RawResponse
	defer raw.Body.Close()

	if raw.StatusCode < 200 || raw.StatusCode > 299 {
		body, rerr := readCapped(raw.Body, raw.ContentLength, errorBodyCap, true)
		if rerr != nil && !errors.Is(rerr, errTooLarge) {
			return nil, stop, transportError(ctx, rerr)
		}
		he := httpError(raw, body, rerr != nil, c.redactions())
		switch {
		case raw.StatusCode == http.StatusTooManyRequests:
			return nil, verdict{retry: resend, wait: parseRetryAfter(raw.Header.Get("Retry-After"))}, he
		case raw.StatusCode == http.StatusUnauthorized && ex.bearer:
			c.tokens.invalidate(token)
			return nil, verdict{retry: renewToken}, he
		}
		return nil, stop, he
	}

	body, err := readCapped(raw.Body, raw.ContentLength, c.cfg.maxResponseBytes, false)
	if errors.Is(err, errTooLarge) {
		return nil, stop, tooLarge(raw.StatusCode, c.cfg.maxResponseBytes, err)
	}
	if err != nil {
		return nil, stop, transportError(ctx, err)
	}
	ans = &answer{status: raw.StatusCode, header: raw.Header, body: body}
	if ex.into != nil {
		// Decoded here so that the attempt's log record says when a 2xx
		// answer was unusable.
		if err := decodeResult(body, ex.into, true); err != nil {
			return ans, stop, unexpectedBody(raw.StatusCode, raw.Header, body, c.redactions(), err)
		}
	}
	return ans, verdict{}, nil
}

var errTooLarge = errors.New("response body exceeds the size cap")

// readCapped reads r to its end, failing with errTooLarge past limit bytes
// without holding more than limit+1 of them. With truncate, it returns the
// first limit bytes and errTooLarge instead.
//
// A known length (Content-Length) is read into one buffer of that size.
// An unknown one (a chunked answer) is read into chunks of growing size
// and joined once at the end, as io.ReadAll does: growing one buffer would
// copy the answer again at every step.
func readCapped(r io.Reader, contentLength, limit int64, truncate bool) ([]byte, error) {
	if contentLength > limit && !truncate {
		return nil, errTooLarge
	}
	var chunks [][]byte
	total := int64(0)
	next := int64(512)
	if contentLength >= 0 && contentLength <= limit {
		// One byte more than announced, so that the end is seen in the
		// same buffer. A body longer than announced reads on below. The
		// announcement is trusted only up to trustedLength before bytes
		// arrive: a server announcing 64 MiB and sending little must not
		// cost 64 MiB per call.
		buf, err := fill(r, make([]byte, min(contentLength, trustedLength)+1))
		if err == nil && contentLength > trustedLength {
			// The bytes keep coming as announced: one buffer for the rest.
			whole := make([]byte, contentLength+1)
			n := copy(whole, buf)
			rest, rerr := fill(r, whole[n:])
			buf, err = whole[:n+len(rest)], rerr
		}
		if err != nil || int64(len(buf)) > limit {
			return capped(buf, err, limit)
		}
		chunks, total, next = append(chunks, buf), int64(len(buf)), max(next, int64(len(buf)))
	}
	for {
		size := min(next, limit+1-total)
		chunk, err := fill(r, make([]byte, size))
		total += int64(len(chunk))
		if err != nil || total > limit {
			if len(chunks) == 0 {
				return capped(chunk, err, limit)
			}
			out := make([]byte, 0, total)
			for _, c := range chunks {
				out = append(out, c...)
			}
			return capped(append(out, chunk...), err, limit)
		}
		chunks = append(chunks, chunk)
		next += next / 2
	}
}

// trustedLength is the most readCapped allocates on a Content-Length alone.
const trustedLength = 4 << 20

// fill reads into buf until it is full or r fails, and returns what was
// read. A full buf comes back with a nil error, even at the end of r.
func fill(r io.Reader, buf []byte) ([]byte, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return buf[:n], err
		}
	}
	return buf, nil
}

// capped finishes readCapped: past limit is errTooLarge with the first
// limit bytes, io.EOF is success, anything else a read error.
func capped(buf []byte, err error, limit int64) ([]byte, error) {
	switch {
	case int64(len(buf)) > limit:
		return buf[:limit], errTooLarge
	case err == io.EOF:
		return buf, nil
	case err != nil:
		return nil, err
	}
	return buf, nil
}

// neverConnected reports whether the request provably never reached a
// server: the name did not resolve or the connection was refused.
func neverConnected(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// backoff is the wait before try attempt+1: exponential from 100 ms with
// full jitter, capped at 2 s, and never less than the server asked for.
func backoff(attempt int, atLeast time.Duration) time.Duration {
	ceil := 100 * time.Millisecond << min(attempt-1, 5)
	ceil = min(ceil, 2*time.Second)
	d := ceil/2 + rand.N(ceil/2+1)
	return max(d, atLeast)
}

// parseRetryAfter reads a Retry-After given in seconds; other forms count
// as no hint.
func parseRetryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(v)
	if err != nil || secs < 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// deadlineWithin reports whether ctx's deadline comes within d.
func deadlineWithin(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) <= d
}

// sleep waits d, or returns false at once when the context would end first.
func sleep(ctx context.Context, d time.Duration) bool {
	if deadlineWithin(ctx, d) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// statusOf returns the HTTP status of an attempt's answer, 0 when none
// came.
func statusOf(ans *answer, err error) int {
	var he *HError
	if errors.As(err, &he) {
		return he.StatusCode
	}
	if ans != nil {
		return ans.status
	}
	return 0
}

// logAttempt writes the attempt's one debug record. Nothing in it can hold
// a secret: the error texts are built redacted.
func (c *Client) logAttempt(ctx context.Context, ex *exchange, attempt int, start time.Time, ans *answer, err error) {
	l := c.cfg.logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("function", ex.fn),
		slog.Int("status", statusOf(ans, err)),
		slog.Int("attempt", attempt),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		if ans != nil {
			// The server answered 2xx with a body that is not the answer
			// the protocol promises.
			attrs = append(attrs, slog.String("answer", "unusable 2xx body"))
		}
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "baas: call", attrs...)
}
