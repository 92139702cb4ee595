package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas/manage"
)

// timeLayout is how the tables show times, in UTC.
const timeLayout = "2006-01-02 15:04:05"

func unixTime(sec int64) string {
	if sec == 0 {
		return "-"
	}
	return time.Unix(sec, 0).UTC().Format(timeLayout)
}

func (a *app) listCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the app's functions: name, remark, updated time (UTC)",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			fns, err := a.manager(cmd)
			if err != nil {
				return err
			}
			all, err := during(a, "listing functions", func() ([]manage.Function, error) { return fns.List(cmd.Context()) })
			if err != nil {
				return err
			}
			if a.json {
				type row struct {
					Name      string `json:"name"`
					Remark    string `json:"remark"`
					CreatedAt int64  `json:"created_at"`
					UpdatedAt int64  `json:"updated_at"`
				}
				rows := make([]row, 0, len(all))
				for _, f := range all {
					rows = append(rows, row{f.Name, f.Remark, f.CreatedAt, f.UpdatedAt})
				}
				return a.printJSON(rows)
			}
			rows := make([][]string, 0, len(all))
			for _, f := range all {
				remark := f.Remark
				if remark == "" {
					remark = "-"
				}
				rows = append(rows, []string{f.Name, remark, unixTime(f.UpdatedAt)})
			}
			fmt.Fprint(a.stdout, a.table([]string{"NAME", "REMARK", "UPDATED"}, rows))
			return nil
		},
	}
}
