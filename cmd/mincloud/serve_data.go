package main

import (
	"fmt"
	"strings"

	"github.com/mincloud-go/baas/emulator"
)

// schemaOption is serve's --schema as an emulator option (none when
// empty).
func schemaOption(path string) emulator.Option {
	if path == "" {
		return nil
	}
	return emulator.WithSchemaFile(path)
}

// dataBanner is serve's line about where the tables live.
func dataBanner(dataFile, schemaFile string) string {
	where := "in memory (--data FILE keeps them)"
	if dataFile != "" {
		where = "in " + dataFile
	}
	mode := "no schema: a table is made by its first write"
	if schemaFile != "" {
		mode = "schema " + schemaFile
	}
	return fmt.Sprintf("data: tables %s; %s", where, mode)
}

// triggerOptions reads serve's --trigger TABLE:FUNCTION[:events] values.
// Only the flag's form is checked here: what a trigger may name (events,
// empty names) is the emulator's rule, checked by Listen.
func triggerOptions(specs []string) ([]emulator.Option, error) {
	var out []emulator.Option
	for _, spec := range specs {
		parts := strings.Split(spec, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("--trigger %q: use TABLE:FUNCTION or TABLE:FUNCTION:create,update,delete", spec)
		}
		var events []string
		if len(parts) == 3 {
			events = strings.Split(parts[2], ",")
		}
		out = append(out, emulator.WithTableTrigger(parts[0], parts[1], events...))
	}
	return out, nil
}
