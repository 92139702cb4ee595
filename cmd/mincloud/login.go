package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/internal/clientinfo"
	"github.com/mincloud-go/baas/manage"
)

func (a *app) loginCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "login [CLIENT_ID CLIENT_SECRET]",
		Short: "Check and store the app's client id and secret",
		Long: `login checks the client id and secret against the Open API and stores
them, with --host and --env, in <user config dir>/mincloud/config.json
(mode 0600). Later commands use them unless flags or MINCLOUD_* variables
say otherwise. The id and secret may also come from --client-id and
--client-secret or MINCLOUD_CLIENT_ID and MINCLOUD_CLIENT_SECRET, which
keeps the secret out of the shell's history. The secret is never printed.`,
		Example: `  mincloud login 1a2b3c4d5e6f 0123456789abcdef
  MINCLOUD_CLIENT_SECRET=... mincloud login --client-id 1a2b3c4d5e6f
  mincloud login --host http://127.0.0.1:8080 --client-id dev --client-secret dev`,
		Args: rangeArgs(0, "client id", "client secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := a.conn.resolve(cmd, config{})
			if len(args) > 0 {
				cfg.ClientID = args[0]
			}
			if len(args) > 1 {
				cfg.ClientSecret = args[1]
			}
			switch {
			case cfg.ClientID == "":
				return usageErr(cmd, "client id is required (mincloud login CLIENT_ID CLIENT_SECRET)")
			case cfg.ClientSecret == "":
				return usageErr(cmd, "client secret is required (mincloud login CLIENT_ID CLIENT_SECRET, or MINCLOUD_CLIENT_SECRET)")
			}
			c, err := cfg.client()
			if err != nil {
				return usageErr(cmd, "%v", err) // nothing was sent: a setting the SDK refuses
			}
			// A call that needs the access token proves the pair works.
			if _, err := during(a, "checking the client secret", func() ([]manage.Function, error) {
				return manage.New(c).List(cmd.Context())
			}); err != nil {
				return err
			}
			path, err := cfg.save()
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"client_id": cfg.ClientID, "host": clientinfo.Of(c).Host, "env": cfg.Env, "config": path})
			}
			fmt.Fprintf(a.stdout, "%s client id %s on %s\nsaved to %s\n", a.outStyle.green("logged in:"), cfg.ClientID, clientinfo.Of(c).Host, path)
			return nil
		},
	}
}

func (a *app) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the stored client id and secret",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := configPath()
			if err != nil {
				return err
			}
			removed := true
			if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
				removed = false
			} else if err != nil {
				return failed(fmt.Errorf("cannot remove the login file: %w", err))
			}
			if a.json {
				return a.printJSON(map[string]any{"logged_out": removed, "config": path})
			}
			if removed {
				fmt.Fprintf(a.stdout, "logged out: removed %s\n", path)
			} else {
				fmt.Fprintln(a.stdout, "not logged in: nothing to remove")
			}
			return nil
		},
	}
}
