package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// template is the code `new` writes: the platform's callback style, as
// the hosted CLI's template. It succeeds and echoes what it was given, so
// that a fresh function can be deployed and invoked straight away.
const template = `// %[1]s: a 知晓云 cloud function.
// event.data is what it was invoked with; callback(err, data) ends it.
exports.main = function (event, callback) {
  console.log('%[1]s called with', JSON.stringify(event.data))
  callback(null, { message: 'hello from %[1]s', data: event.data })
}
`

func (a *app) newCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "new NAME",
		Short:   "Write a new function, <root>/NAME/index.js, from a template",
		Example: "  mincloud new helloWorld && mincloud deploy helloWorld",
		Args:    exactArgs("function name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkFunctionName(cmd, name); err != nil {
				return err
			}
			existing, err := a.sourcePath(name)
			if err != nil {
				return err
			}
			if existing != "" {
				return failed(fmt.Errorf("function %s already exists in %s: edit it, or choose another name", name, existing))
			}
			dir := filepath.Join(a.root, name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return failed(err)
			}
			path := filepath.Join(dir, "index.js")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return failed(err)
			}
			_, werr := fmt.Fprintf(f, template, name)
			if err := f.Close(); werr != nil || err != nil {
				return failed(fmt.Errorf("cannot write %s: %v", path, firstErr(werr, err)))
			}
			if a.json {
				return a.printJSON(map[string]string{"name": name, "path": path})
			}
			next := hint("deploy", name)
			if cmd.Flags().Changed("root") {
				next = hint("deploy", name, "--root", a.root)
			}
			fmt.Fprintf(a.stdout, "%s %s\nnext: %s\n", a.outStyle.green("created"), path, next)
			return nil
		},
	}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
