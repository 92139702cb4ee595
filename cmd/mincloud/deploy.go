package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/emulator/bundle"
	"github.com/mincloud-go/baas/manage"
)

// deployed is what deploy did to one function, the --json output's rows.
type deployed struct {
	Name   string `json:"name"`
	Action string `json:"action,omitempty"` // created or updated
	Path   string `json:"path"`
	Error  string `json:"error,omitempty"`
}

func (a *app) deployCommand() *cobra.Command {
	var remark string
	cmd := &cobra.Command{
		Use:   "deploy [NAME...]",
		Short: "Upload functions' code: update them, or create them when new",
		Long: `deploy bundles <root>/NAME.js, NAME.ts, NAME/index.js or NAME/index.ts
as 'mincloud build' does (one file with its relative files and npm
packages; a plain .js file that requires nothing but Node's built-ins goes
as it is) and uploads it as the function's code: it updates the function,
and creates it when the platform does not have it. With no NAME it deploys every function in the
root. It prints what it did per function, and goes on past a failure; the
exit code is 1 when any failed.`,
		Example: `  mincloud deploy helloWorld -m "first version"
  mincloud deploy --root functions`,
		RunE: func(cmd *cobra.Command, names []string) error {
			names, err := a.functionNames(cmd, names)
			if err != nil {
				return err
			}
			// Every function is bundled first, as build and serve bundle
			// it: a missing file is a usage error, one that cannot be
			// bundled a failure, and nothing is uploaded.
			codes := make([]string, len(names))
			paths := make([]string, len(names))
			for i, n := range names {
				b, p, err := a.bundleFunction(cmd, n)
				if err != nil {
					var be *bundle.Error
					if errors.As(err, &be) {
						return failed(err)
					}
					return err
				}
				codes[i], paths[i] = string(b.Code), p
			}
			fns, err := a.manager(cmd)
			if err != nil {
				return err
			}
			var rows []deployed
			for i, n := range names {
				action, err := during(a, "deploying "+n, func() (string, error) {
					return deployOne(cmd, fns, n, codes[i], remark, cmd.Flags().Changed("remark"))
				})
				row := deployed{Name: n, Action: action, Path: paths[i]}
				if err != nil {
					row.Error = err.Error()
					if !a.json {
						fmt.Fprintf(a.stderr, "%s %s: %v\n", a.errStyle.red("failed"), n, err)
					}
				} else if !a.json {
					fmt.Fprintf(a.stdout, "%s %s from %s\n", a.outStyle.green(action), n, paths[i])
				}
				rows = append(rows, row)
			}
			if a.json {
				if err := a.printJSON(rows); err != nil {
					return err
				}
			}
			if failed := failedNames(rows); len(failed) > 0 {
				return notAll("deployed", failed, len(rows))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&remark, "remark", "m", "", "the functions' remark (kept as it is when not given)")
	return cmd
}

// deployOne updates name, and creates it when the platform answers 404,
// as the hosted CLI does.
func deployOne(cmd *cobra.Command, fns *manage.Service, name, code, remark string, setRemark bool) (string, error) {
	u := manage.Update{Code: &code}
	if setRemark {
		u.Remark = &remark
	}
	_, err := fns.Update(cmd.Context(), name, u)
	if err == nil {
		return "updated", nil
	}
	if !errors.Is(err, &baas.HError{Code: 404}) {
		return "", err
	}
	if _, err := fns.Create(cmd.Context(), manage.Function{Name: name, Code: code, Remark: remark}); err != nil {
		return "", err
	}
	return "created", nil
}

func failedNames(rows []deployed) []string {
	var names []string
	for _, r := range rows {
		if r.Error != "" {
			names = append(names, r.Name)
		}
	}
	return names
}

// notAll is the exit error of build or deploy when some functions
// failed. Each failure was said already, on its own line (or in the JSON
// rows): this names the functions, without repeating why.
func notAll(done string, failed []string, total int) error {
	return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d functions not %s: %s", len(failed), total, done, strings.Join(failed, ", "))}
}
