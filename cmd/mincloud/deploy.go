package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas"
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
		Long: `deploy reads <root>/NAME.js or <root>/NAME/index.js and uploads its text
as the function's code: it updates the function, and creates it when the
platform does not have it. With no NAME it deploys every function in the
root. It prints what it did per function, and goes on past a failure; the
exit code is 1 when any failed.`,
		Example: `  mincloud deploy helloWorld -m "first version"
  mincloud deploy --root functions`,
		RunE: func(cmd *cobra.Command, names []string) error {
			for _, n := range names {
				if err := checkFunctionName(cmd, n); err != nil {
					return err
				}
			}
			if len(names) == 0 {
				var err error
				if names, err = a.localFunctions(); err != nil {
					return err
				}
				if len(names) == 0 {
					return usageErr(cmd, "no functions in %s (NAME.js or NAME/index.js): create one with 'mincloud new NAME', or pass --root", a.root)
				}
			}
			// Every file is read first: a missing one is a usage error,
			// and nothing is uploaded.
			codes := make([]string, len(names))
			paths := make([]string, len(names))
			for i, n := range names {
				p, err := a.sourcePath(n)
				if err != nil {
					return err
				}
				if p == "" {
					return usageErr(cmd, "function %s has no code in %s: expected %s.js or %s/index.js", n, a.root, n, n)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return failed(err)
				}
				codes[i], paths[i] = string(b), p
			}
			fns, err := a.manager(cmd)
			if err != nil {
				return err
			}
			var rows []deployed
			var firstErr error
			for i, n := range names {
				action, err := during(a, "deploying "+n, func() (string, error) {
					return deployOne(cmd, fns, n, codes[i], remark, cmd.Flags().Changed("remark"))
				})
				row := deployed{Name: n, Action: action, Path: paths[i]}
				if err != nil {
					row.Error = err.Error()
					if firstErr == nil {
						firstErr = err
					}
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
			if firstErr != nil {
				return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d functions not deployed; the first: %w", countErrors(rows), len(rows), firstErr)}
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

func countErrors(rows []deployed) int {
	n := 0
	for _, r := range rows {
		if r.Error != "" {
			n++
		}
	}
	return n
}
