// Package appsetup gives the examples a client: for the app named by
// MINCLOUD_CLIENT_ID (with MINCLOUD_HOST, MINCLOUD_ENV_ID,
// MINCLOUD_AUTH_TOKEN and MINCLOUD_CLIENT_SECRET) when set, else for an
// embedded emulator with the demo functions registered.
package appsetup

import (
	"os"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator"
	"github.com/mincloud-go/baas/emulator/demo"
)

// Client returns the client to call with, the emulator behind it (nil for
// a real app), and a function to call when done.
func Client(opts ...baas.Option) (*baas.Client, *emulator.Server, func(), error) {
	if os.Getenv(baas.EnvClientID) != "" {
		c, err := baas.New(append(baas.EnvOptions(), opts...)...) // the Open API when MINCLOUD_CLIENT_SECRET is set
		return c, nil, func() {}, err
	}
	srv := emulator.New()
	demo.Register(srv)
	c, err := srv.Client(opts...)
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	return c, srv, srv.Close, nil
}
