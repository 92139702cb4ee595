// Package function is for writing 知晓云 cloud functions in Go: the
// [Handler] signature, the [Event] a function receives, and the [Logger]
// that writes into the job's log, the Go form of console.log.
//
// A function answers with a value, which the caller gets as the result's
// data, or an error, which the caller gets as a function failure (code 1,
// not an HTTP error). Return an [*Error] to choose the error's type.
//
// Inside a handler the package-level baas.Invoke, given the handler's
// context, calls sibling functions with the function's own credentials.
package function

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Handler is a cloud function: it gets the call's event and returns the
// result's data or an error. ctx ends at the job's deadline (5 s sync,
// 300 s async by default).
type Handler func(ctx context.Context, ev *Event) (any, error)

// Event is what a function receives, as the platform sends it.
type Event struct {
	// Data is the caller's params as raw JSON; nil when the caller sent
	// none. Use [Event.Decode] to read it.
	Data json.RawMessage `json:"data,omitempty"`
	// EventType says who triggered the run: "sdk", "open_api",
	// "cloud_function", ...
	EventType string `json:"eventType"`
	// JobID is this run's id.
	JobID int64 `json:"jobId"`
	// MemoryLimitInMB is the run's memory limit.
	MemoryLimitInMB int `json:"memoryLimitInMB"`
	// MiniappID is the app's id.
	MiniappID int64 `json:"miniappId"`
	// Request describes the caller, for calls made through the SDK.
	Request *Request `json:"request,omitempty"`
	// TimeLimitInMS is the run's deadline in milliseconds.
	TimeLimitInMS int64 `json:"timeLimitInMS"`
	// SignKey is the key for fetching the WeChat access token.
	SignKey string `json:"signKey,omitempty"`
	// FlexSchemaName is set when a table trigger started the run.
	FlexSchemaName string `json:"flex_schema_name,omitempty"`
	// Env is set when the function belongs to a test environment.
	Env *Env `json:"env,omitempty"`
}

// HasData reports whether the caller sent params.
func (e *Event) HasData() bool { return len(e.Data) > 0 }

// Decode unmarshals the caller's params into v; no params leave v as it is.
func (e *Event) Decode(v any) error {
	if !e.HasData() {
		return nil
	}
	return json.Unmarshal(e.Data, v)
}

// Request is the caller as the platform saw it.
type Request struct {
	Meta Meta  `json:"meta"`
	User *User `json:"user,omitempty"`
}

// Meta is the caller's connection.
type Meta struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

// User is the logged-in user who made the call.
type User struct {
	ID        int64  `json:"id"`
	Nickname  string `json:"nickname,omitempty"`
	AvatarURL string `json:"avatar_url,omitempty"`
	OpenID    string `json:"openid,omitempty"`
	UnionID   string `json:"unionid,omitempty"`
}

// Env is a test environment.
type Env struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Error is a function failure with a chosen type, reported to the caller
// as {"message","type","stack"}. Any other error is reported with type
// "Error".
type Error struct {
	Message string
	Type    string // e.g. "TypeError"; "Error" when empty
	Stack   string // optional
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

type loggerKey struct{}

// WithLogger returns a context whose [Logger] is l. The emulator sets it
// for each job; tests of a handler can set their own.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the job's logger: each record becomes one line of the
// job's log, "<ISO time> <LEVEL> <message>". Outside a job it returns a
// logger that drops everything.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return discard
}

var discard = slog.New(discardHandler{})

// discardHandler drops every record (slog.DiscardHandler needs Go 1.24).
type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }
