package main

import (
	"fmt"

	"github.com/mincloud-go/baas/internal/fnroot"
	"github.com/spf13/cobra"
)

// The functions root holds each function as <root>/NAME.js or
// <root>/NAME/index.js, as the hosted CLI's does; internal/fnroot reads
// it, as the emulator's serve --functions does.

// checkFunctionName refuses a name the platform refuses, by the one rule
// the emulator applies too (internal/fnroot.CheckName).
func checkFunctionName(cmd *cobra.Command, name string) error {
	if err := fnroot.CheckName(name); err != nil {
		return usageErr(cmd, "%v", err)
	}
	return nil
}

// sourcePath returns the file that holds name's code, or "" when none.
func (a *app) sourcePath(name string) (string, error) {
	f, ok, err := fnroot.Find(a.root, name)
	if err != nil {
		return "", failed(err)
	}
	if !ok {
		return "", nil
	}
	return f.File, nil
}

// localFunctions lists the functions in the root, by name.
func (a *app) localFunctions() ([]string, error) {
	fns, err := fnroot.List(a.root)
	if err != nil {
		return nil, failed(fmt.Errorf("cannot read the functions root: %w", err))
	}
	names := make([]string, len(fns))
	for i, f := range fns {
		names[i] = f.Name
	}
	return names, nil
}
