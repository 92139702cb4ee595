// Package clientinfo is what a *baas.Client shows this module's other
// packages (manage, the mincloud command) and no user: the settings it was
// built with. [Of] reads them through baas.Client.ModuleInfo, whose
// argument, a [Key], only code that can import this package can write, so
// the method is no part of the SDK's API however exported it looks.
package clientinfo

import "time"

// Info is what a client was built with.
type Info struct {
	// Host is the API's base URL, without a trailing slash.
	Host string
	// SyncTimeout and AsyncTimeout are a sync and an async call's deadlines.
	SyncTimeout, AsyncTimeout time.Duration
	// OpenAPI is true for a client built with a client secret: its calls
	// carry the Open API's access token.
	OpenAPI bool
	// SetTokenClock sets the clock the client judges its access token's
	// renewal by, so that a test outside package baas
	// (emulator/managetests) can let a lifetime pass without sleeping; nil
	// for a client without a client secret.
	SetTokenClock func(now func() time.Time)
}

// Key is ModuleInfo's argument. Its field is unexported, so no other
// package's struct type is the same, and outside the module no value of it
// can be written.
type Key struct{ _ struct{} }

// Client is a *baas.Client, as this package needs it.
type Client interface {
	ModuleInfo(Key) Info
}

// Of returns what c was built with.
func Of(c Client) Info { return c.ModuleInfo(Key{}) }
