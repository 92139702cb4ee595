package baas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Codes the SDK itself raises, numbered as the official JS SDK numbers them.
// An HTTP failure carries the HTTP status (400, 401, 404, 500, ...) instead.
const (
	CodeNetwork       = 600 // no connection, or the transport failed
	CodeTimeout       = 601 // the deadline passed
	CodeUninitialized = 602 // no client id: the SDK was not initialised
	CodeUnauthorized  = 603 // the user has not authorised
	CodeSessionMiss   = 604 // the user is not logged in
	CodeBadParameter  = 605 // a bad argument; raised before any request
	CodeUnsupported   = 611 // not available on this platform
)

// HError is every error a call returns, as the official SDK's HError: a
// code and a text, printed "<code>: <text>", where the text starts with the
// official one and may go on to say what was wrong. (Decoding data that
// does not fit a type is a [DecodeError] instead: the call worked.)
//
// Code is an SDK code (600–611, see the Code constants) or, when the server
// answered with a failure, the HTTP status. The cause, if any (a transport
// error, [context.DeadlineExceeded], [context.Canceled], a JSON error), is
// kept behind Unwrap, so errors.Is and errors.As see through an HError.
type HError struct {
	// Code is the SDK code or the HTTP status.
	Code int
	// Message is the text after "<code>: ", chosen as the official SDK
	// chooses it: the body's error_msg, else its message, else the code's
	// default text, and for answers the official SDK can only call
	// "unknown error", what came back.
	Message string
	// StatusCode is the HTTP status of the answer, or 0 when none came.
	StatusCode int

	err error
}

// Error returns "<code>: <text>", the official SDK's HError message.
func (e *HError) Error() string {
	return strconv.Itoa(e.Code) + ": " + e.Message
}

// Unwrap returns the cause of the error, or nil.
func (e *HError) Unwrap() error { return e.err }

// Is reports whether target is an *HError with the same Code, so that
// errors.Is(err, &baas.HError{Code: 404}) matches any 404.
func (e *HError) Is(target error) bool {
	t, ok := target.(*HError)
	return ok && t.Code == e.Code && t.Message == "" && t.err == nil
}

// defaultText returns the text the official SDK prints for an SDK code, or
// the protocol's default text for an HTTP status; "unknown error" otherwise.
func defaultText(code int) string {
	switch code {
	case CodeNetwork:
		return "network disconnected"
	case CodeTimeout:
		return "request timeout"
	case CodeUninitialized:
		return "uninitialized"
	case CodeUnauthorized:
		return "unauthorized"
	case CodeSessionMiss:
		return "session missing"
	case CodeBadParameter:
		return "incorrect parameter type"
	case CodeUnsupported:
		return "unsupported function"
	case 400, 401, 402, 403, 404, 500:
		return http.StatusText(code)
	}
	return "unknown error"
}

// newError returns an HError with the code's default text, followed by
// detail when there is some.
func newError(code int, detail string, cause error) *HError {
	msg := defaultText(code)
	if detail != "" {
		msg += ": " + detail
	}
	return &HError{Code: code, Message: msg, err: cause}
}

// badParam is the 605 raised before anything is sent.
func badParam(format string, args ...any) *HError {
	err := fmt.Errorf(format, args...)
	return newError(CodeBadParameter, err.Error(), errors.Unwrap(err))
}

// errEmptyName is the 605 of a call without a function name.
func errEmptyName() *HError { return newError(CodeBadParameter, "function name is empty", nil) }

// errNilContext is the 605 of a call with a nil context: net/http refuses
// one, and quietly using context.Background would drop the caller's
// deadline and cancellation, so nothing is sent.
func errNilContext() *HError {
	return newError(CodeBadParameter, "context is nil: pass context.Background() or a context with a deadline", nil)
}

// DecodeError is the failure to decode a function's data into a Go value,
// in [Result.Decode] or [InvokeAs]. It is not an [HError]: the call worked
// and the function ran; what it returned does not fit the type asked for.
type DecodeError struct {
	// Type is the Go type asked for, e.g. "*main.User".
	Type string
	// Err is encoding/json's error.
	Err error
}

// Error says what did not fit.
func (e *DecodeError) Error() string {
	return "baas: the function's data does not decode into " + e.Type + ": " + e.Err.Error()
}

// Unwrap returns encoding/json's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// transportError turns a failed exchange into a 601 when the deadline
// passed, and a 600 otherwise. The caller's context decides which: the
// transport's own error text varies with the moment the deadline hit.
func transportError(ctx context.Context, err error) *HError {
	switch ctx.Err() {
	case context.DeadlineExceeded:
		return newError(CodeTimeout, "", context.DeadlineExceeded)
	case context.Canceled:
		return newError(CodeNetwork, "request canceled", context.Canceled)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(CodeTimeout, "", err)
	}
	return newError(CodeNetwork, err.Error(), err)
}

// errorBody is the platform's error answer.
type errorBody struct {
	ErrorMsg any `json:"error_msg"`
	Message  any `json:"message"`
}

// httpError turns a non-2xx answer into an HError as the official SDK does:
// the HTTP status and the body's error_msg, else its message. Where the
// body says nothing usable (HTML from a proxy, an empty body), the text is
// the default one followed by what came back, cut and with secrets removed.
func httpError(resp *http.Response, body []byte, truncated bool, secrets []string) *HError {
	he := &HError{Code: resp.StatusCode, StatusCode: resp.StatusCode}
	var eb errorBody
	isObject := json.Unmarshal(body, &eb) == nil && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
	switch {
	case isObject && nonEmptyString(eb.ErrorMsg):
		he.Message = redact(eb.ErrorMsg.(string), secrets)
	case isObject && nonEmptyString(eb.Message):
		he.Message = redact(eb.Message.(string), secrets)
	case isObject && defaultText(he.Code) != "unknown error":
		he.Message = defaultText(he.Code)
	default:
		he.Message = "unknown error (" + describe(resp.StatusCode, resp.Header, body, truncated, secrets) + ")"
	}
	return he
}

// unexpectedBody is the error for a 2xx answer that is not the JSON object
// the protocol promises.
func unexpectedBody(status int, header http.Header, body []byte, secrets []string, cause error) *HError {
	return &HError{
		Code:       status,
		StatusCode: status,
		Message:    "unexpected response (" + describe(status, header, body, false, secrets) + ")",
		err:        cause,
	}
}

// tooLarge is the error for an answer past the size cap.
func tooLarge(status int, limit int64, cause error) *HError {
	return &HError{
		Code:       status,
		StatusCode: status,
		Message:    "response too large: more than " + strconv.FormatInt(limit, 10) + " bytes (HTTP " + strconv.Itoa(status) + ")",
		err:        cause,
	}
}

func nonEmptyString(v any) bool {
	s, ok := v.(string)
	return ok && s != ""
}

// snippetLen is how much of a body an error quotes.
const snippetLen = 200

// describe says what came back: the status, the content type, the size and
// the first bytes of the body.
func describe(status int, header http.Header, body []byte, truncated bool, secrets []string) string {
	var b strings.Builder
	b.WriteString("HTTP ")
	b.WriteString(strconv.Itoa(status))
	if ct := header.Get("Content-Type"); ct != "" {
		b.WriteString(", Content-Type ")
		b.WriteString(ct)
	}
	if len(body) == 0 {
		b.WriteString(", empty body")
		return b.String()
	}
	b.WriteString(", ")
	b.WriteString(strconv.Itoa(len(body)))
	if truncated {
		b.WriteString("+")
	}
	b.WriteString(" bytes: ")
	b.WriteString(strconv.Quote(snippet(body, secrets, truncated)))
	return b.String()
}

// snippet returns the start of body as valid UTF-8, with every secret
// replaced before cutting so that no part of one can survive the cut.
func snippet(body []byte, secrets []string, truncated bool) string {
	window := snippetLen + 1
	for _, s := range secrets {
		window += len(s)
	}
	if len(body) > window {
		body = body[:window]
		truncated = true
	}
	s := redact(strings.ToValidUTF8(string(body), "\uFFFD"), secrets)
	if len(s) > snippetLen {
		cut := snippetLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
		truncated = true
	}
	if truncated {
		s += "…"
	}
	return s
}

// redact replaces every non-empty secret in s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
