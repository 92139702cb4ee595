package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/emulator/bundle"
)

// Every function goes through package bundle on its way to Node or to
// the platform: serve --functions runs, deploy uploads and build writes the
// same bytes.

// built is what build did to one function, the --json output's rows.
type built struct {
	Name  string `json:"name"`
	Path  string `json:"path"`          // the function's file
	Out   string `json:"out,omitempty"` // the bundle written
	Bytes int    `json:"bytes,omitempty"`
	Error string `json:"error,omitempty"`
}

// functionNames checks the names given, or lists the root's functions
// when none is.
func (a *app) functionNames(cmd *cobra.Command, names []string) ([]string, error) {
	for _, n := range names {
		if err := checkFunctionName(cmd, n); err != nil {
			return nil, err
		}
	}
	if len(names) > 0 {
		return names, nil
	}
	names, err := a.localFunctions()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, usageErr(cmd, "no functions in %s (NAME.js, NAME.ts, NAME/index.js or NAME/index.ts): create one with 'mincloud new NAME', or pass --root", a.root)
	}
	return names, nil
}

// bundleFunction bundles name from the root; a function without code
// there is a usage error, one esbuild cannot bundle a *bundle.Error.
func (a *app) bundleFunction(cmd *cobra.Command, name string) (*bundle.Bundle, string, error) {
	p, err := a.sourcePath(name)
	if err != nil {
		return nil, "", err
	}
	if p == "" {
		return nil, "", usageErr(cmd, "function %s has no code in %s: expected %s.js, %s.ts, %s/index.js or %s/index.ts", name, a.root, name, name, name, name)
	}
	b, err := bundle.Build(a.root, name, p)
	return b, p, err
}

func (a *app) buildCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build [NAME...]",
		Short: "Bundle functions into the one JavaScript file each that deploy uploads",
		Long: `build bundles each function of the root (NAME.js, NAME.ts, NAME/index.js or
NAME/index.ts, with the relative files and npm packages it imports; npm
packages are looked up in node_modules from the function's folder upward,
as Node does) into one CommonJS file for Node 12, the platform's runtime,
with an inline source map, and writes it as <out>/NAME.js. It is the very
file deploy uploads and serve --functions runs. A plain .js function that
requires nothing but Node's built-ins is written as it is. With no NAME it
builds every function in the root. It prints one line per function, and
goes on past a failure; the exit code is 1 when any failed.`,
		Example: `  mincloud build
  mincloud build helloWorld --root functions --out dist`,
		RunE: func(cmd *cobra.Command, names []string) error {
			names, err := a.functionNames(cmd, names)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return failed(err)
			}
			var rows []built
			var notBuilt []string
			for _, n := range names {
				row := built{Name: n}
				b, p, err := a.bundleFunction(cmd, n)
				var be *bundle.Error
				if err != nil && !errors.As(err, &be) {
					return err
				}
				row.Path = p
				if err == nil {
					row.Out = filepath.Join(out, n+".js")
					row.Bytes = len(b.Code)
					err = os.WriteFile(row.Out, b.Code, 0o644)
				}
				if err != nil {
					row.Out, row.Bytes, row.Error = "", 0, err.Error()
					notBuilt = append(notBuilt, n)
					if !a.json {
						fmt.Fprintf(a.stderr, "%s %s: %v\n", a.errStyle.red("failed"), n, err)
					}
				} else if !a.json {
					fmt.Fprintf(a.stdout, "%s %s: %s (%d bytes)\n", a.outStyle.green("built"), n, row.Out, row.Bytes)
				}
				rows = append(rows, row)
			}
			if a.json {
				if err := a.printJSON(rows); err != nil {
					return err
				}
			}
			if len(notBuilt) > 0 {
				return notAll("built", notBuilt, len(rows))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "dist", "the folder to write the bundles to, as NAME.js")
	return cmd
}
