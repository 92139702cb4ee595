package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/manage"
)

func (a *app) pullCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pull NAME",
		Short: "Write a function's code from the platform into the root",
		Long: `pull reads the function's code and writes it to the file that holds it
in the root (<root>/NAME.js or <root>/NAME/index.js), or to
<root>/NAME/index.js when there is none, replacing what was there.`,
		Args: exactArgs("function name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkFunctionName(cmd, name); err != nil {
				return err
			}
			fns, err := a.manager(cmd)
			if err != nil {
				return err
			}
			f, err := during(a, "reading "+name, func() (*manage.Function, error) { return fns.Get(cmd.Context(), name) })
			if err != nil {
				return err
			}
			if f.Code == "" {
				return failed(fmt.Errorf("function %s has no code to pull (in the emulator, a function registered in Go has none)", name))
			}
			path, err := a.sourcePath(name)
			if err != nil {
				return err
			}
			if strings.HasSuffix(path, ".ts") {
				// The platform holds the bundle: it would replace the source.
				return usageErr(cmd, "%s is TypeScript, and the platform holds the bundled JavaScript: pull into another --root", path)
			}
			if path == "" {
				path = filepath.Join(a.root, name, "index.js")
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return failed(err)
				}
			}
			if err := os.WriteFile(path, []byte(f.Code), 0o644); err != nil {
				return failed(err)
			}
			if a.json {
				return a.printJSON(map[string]any{"name": name, "path": path, "bytes": len(f.Code)})
			}
			fmt.Fprintf(a.stdout, "%s %s into %s\n", a.outStyle.green("pulled"), name, path)
			return nil
		},
	}
}
