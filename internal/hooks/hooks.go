// Package hooks lets the module's other packages (manage, the mincloud
// command) reach what package baas keeps unexported because no user needs
// it. Package baas sets every hook in its init, so they are set before any
// importer's code runs.
package hooks

import "time"

var (
	// Timeouts returns a *baas.Client's sync and async call deadlines.
	Timeouts func(client any) (sync, async time.Duration)
	// OpenAPI reports whether a *baas.Client calls the Open API (it was
	// built with a client secret).
	OpenAPI func(client any) bool
	// Host returns a *baas.Client's host, without a trailing slash.
	Host func(client any) string
	// BadParameter returns the SDK's 605, "incorrect parameter type: "
	// followed by detail, for bad input found before anything is sent.
	BadParameter func(detail string) error
)
