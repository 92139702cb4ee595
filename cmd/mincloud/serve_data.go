package main

import (
	"fmt"

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
