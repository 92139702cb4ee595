package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// printJSON writes v as indented JSON on stdout, the --json output.
func (a *app) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return failed(fmt.Errorf("cannot encode the output: %w", err))
	}
	if _, err := a.stdout.Write(append(b, '\n')); err != nil {
		return failed(fmt.Errorf("cannot write the output: %w", err))
	}
	return nil
}

// table formats rows under a header, in columns; it is built whole and
// printed once the command knows it succeeded.
func (a *app) table(header []string, rows [][]string) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	return b.String()
}

// indent puts prefix before every line of text.
func indent(text, prefix string) string {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(text, "\n", "\n"+prefix) + "\n"
}
