package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) deleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a function from the platform",
		Long: `delete deletes the function on the platform (not the local file). It
asks first on a terminal; --yes skips the question, and is required when
stdin is not a terminal.`,
		Args: exactArgs("function name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkFunctionName(cmd, name); err != nil {
				return err
			}
			if !yes {
				if !a.stdinIsTerminal {
					return usageErr(cmd, "deleting %s needs confirmation: pass --yes when stdin is not a terminal", name)
				}
				fmt.Fprintf(a.stderr, "Delete function %s? This cannot be undone. [y/N] ", name)
				line, err := a.readLine(cmd.Context())
				if err != nil {
					return failed(fmt.Errorf("not deleted: %w", err))
				}
				if answer := strings.ToLower(strings.TrimSpace(line)); answer != "y" && answer != "yes" {
					return failed(errors.New("not deleted"))
				}
			}
			fns, err := a.manager(cmd)
			if err != nil {
				return err
			}
			if _, err := during(a, "deleting "+name, func() (struct{}, error) {
				return struct{}{}, fns.Delete(cmd.Context(), name)
			}); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"name": name, "deleted": true})
			}
			fmt.Fprintf(a.stdout, "%s %s\n", a.outStyle.green("deleted"), name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

// readLine reads an answer from stdin; Ctrl-C (the context) ends the wait.
func (a *app) readLine(ctx context.Context) (string, error) {
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(a.stdin).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		return line, nil
	case <-ctx.Done():
		fmt.Fprintln(a.stderr)
		return "", ctx.Err()
	}
}
