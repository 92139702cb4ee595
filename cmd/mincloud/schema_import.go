package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas"
)

func (a *app) schemaImportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema-import SCHEMA [ROOT]",
		Short: "Create tables from a schema file (the dashboard's JSON format), as the hosted CLI does",
		Long: `schema-import creates the tables of SCHEMA (ROOT/SCHEMA, .json added when
missing): one table object, or an array of them, in the dashboard's "create
table from JSON" format, where a reference field names its target with
schema_name. It works as the hosted CLI's command, through the Open API,
against the platform or 'mincloud serve' (a client secret is needed):
_userprofile is updated, not created; in an array, a name that exists
already stops everything before any write; tables without references are
made first, then those whose targets exist; each table's indexes are added
after it; on an error every table made is deleted again, last first.`,
		Example: `  mincloud schema-import product
  mincloud schema-import tables.json ./schemas`,
		Args: rangeArgs(1, "SCHEMA", "ROOT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := "."
			if len(args) > 1 {
				root = args[1]
			}
			name := args[0]
			if !strings.HasSuffix(name, ".json") {
				name += ".json"
			}
			path := filepath.Join(root, name)
			b, err := os.ReadFile(path)
			if err != nil {
				return failed(err)
			}
			tables, err := parseSchemaFile(b)
			if err != nil {
				return usageErr(cmd, "%s: %v", path, err)
			}
			c, err := a.openAPI(cmd)
			if err != nil {
				return err
			}
			made, err := importSchema(cmd.Context(), c, tables)
			if err != nil {
				return failed(err)
			}
			for _, n := range made {
				fmt.Fprintf(a.stdout, "created table %s\n", n)
			}
			return nil
		},
	}
}

// schemaTable is one table of a schema file, kept as its JSON so that it
// is sent as written (the server sees every key the file has).
type schemaTable struct {
	name string
	raw  map[string]json.RawMessage
	refs []string // schema_name of its reference fields
}

func parseSchemaFile(b []byte) ([]schemaTable, error) {
	b = bytes.TrimSpace(b)
	var raws []json.RawMessage
	switch {
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, fmt.Errorf("the table JSON is malformed: %v", err)
		}
	case len(b) > 0 && b[0] == '{':
		raws = []json.RawMessage{b}
	default:
		return nil, errors.New("the table JSON is malformed: a table object or an array of them is needed")
	}
	var out []schemaTable
	for i, r := range raws {
		var t schemaTable
		if err := json.Unmarshal(r, &t.raw); err != nil {
			return nil, fmt.Errorf("entry %d is not a table object", i)
		}
		if err := json.Unmarshal(t.raw["name"], &t.name); err != nil || t.name == "" {
			return nil, fmt.Errorf("entry %d has no name", i)
		}
		var sc struct {
			Fields []struct {
				Type       string `json:"type"`
				SchemaName string `json:"schema_name"`
			} `json:"fields"`
		}
		if err := json.Unmarshal(t.raw["schema"], &sc); err != nil || t.raw["schema"] == nil || sc.Fields == nil {
			if t.name != "_userprofile" {
				return nil, fmt.Errorf("table %s: schema.fields is missing", t.name)
			}
		}
		for _, f := range sc.Fields {
			if f.Type == "reference" {
				t.refs = append(t.refs, f.SchemaName)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

type tableRef struct {
	ID   json.Number `json:"id"`
	Name string      `json:"name"`
}

func listTables(ctx context.Context, c *baas.Client) ([]tableRef, error) {
	resp, err := c.Do(ctx, baas.Request{Method: http.MethodGet, Path: "/oserve/v1.8/table/", Query: url.Values{"limit": {"1000"}}})
	if err != nil {
		return nil, err
	}
	var page struct {
		Objects []tableRef `json:"objects"`
	}
	return page.Objects, resp.Unmarshal(&page)
}

// importSchema creates the tables in schema-import's order (§8.4) and
// returns their names.
func importSchema(ctx context.Context, c *baas.Client, tables []schemaTable) ([]string, error) {
	existing, err := listTables(ctx, c)
	if err != nil {
		return nil, err
	}
	byName := map[string]string{} // name or id → id
	for _, t := range existing {
		byName[t.Name] = t.ID.String()
		byName[t.ID.String()] = t.ID.String()
	}
	if len(tables) == 1 && tables[0].name == "_userprofile" {
		return updateUserProfile(ctx, c, tables[0], byName)
	}
	var todo []schemaTable
	for _, t := range tables {
		if t.name == "_userprofile" {
			continue // in a batch it is dropped, as the hosted CLI does
		}
		if _, ok := byName[t.name]; ok {
			return nil, fmt.Errorf("table %s exists already: nothing was created", t.name)
		}
		todo = append(todo, t)
	}
	var made []string // ids, in order
	var names []string
	rollback := func(err error) error {
		for i := len(made) - 1; i >= 0; i-- {
			c.Do(ctx, baas.Request{Method: http.MethodDelete, Path: "/oserve/v1.8/table/" + made[i] + "/"})
		}
		return fmt.Errorf("upload failed, the tables created were deleted: %w", err)
	}
	create := func(t schemaTable) error {
		id, err := createTable(ctx, c, t, byName)
		if err != nil {
			return err
		}
		made = append(made, id)
		names = append(names, t.name)
		byName[t.name] = id
		byName[id] = id
		return nil
	}
	var rest []schemaTable
	for _, t := range todo {
		if len(t.refs) > 0 {
			rest = append(rest, t)
			continue
		}
		if err := create(t); err != nil {
			return nil, rollback(err)
		}
	}
	for len(rest) > 0 {
		var next []schemaTable
		for _, t := range rest {
			ready := true
			for _, r := range t.refs {
				if _, ok := byName[r]; !ok {
					ready = false
				}
			}
			if !ready {
				next = append(next, t)
				continue
			}
			if err := create(t); err != nil {
				return nil, rollback(err)
			}
		}
		if len(next) == len(rest) {
			var left []string
			for _, t := range next {
				left = append(left, t.name)
			}
			return nil, rollback(fmt.Errorf("tables %s point to tables that are missing or point to each other in a circle", strings.Join(left, ", ")))
		}
		rest = next
	}
	return names, nil
}

// createTable resolves the reference fields' schema_name into schema_id,
// creates the table, then adds its indexes one by one; a failed index
// deletes the table again.
func createTable(ctx context.Context, c *baas.Client, t schemaTable, byName map[string]string) (string, error) {
	body, err := resolveRefs(t, byName)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(ctx, baas.Request{Method: http.MethodPost, Path: "/oserve/v1.8/table/", Body: body, Name: t.name})
	if err != nil {
		return "", fmt.Errorf("table %s: %w", t.name, err)
	}
	var made tableRef
	if err := resp.Unmarshal(&made); err != nil {
		return "", err
	}
	id := made.ID.String()
	var indexes []json.RawMessage
	if raw, ok := t.raw["indexes"]; ok {
		if err := json.Unmarshal(raw, &indexes); err != nil {
			indexes = nil
		}
	}
	for _, ix := range indexes {
		if _, err := c.Do(ctx, baas.Request{Method: http.MethodPost, Path: "/oserve/v2.6/schema/" + id + "/index/", Body: ix, Name: t.name}); err != nil {
			c.Do(ctx, baas.Request{Method: http.MethodDelete, Path: "/oserve/v1.8/table/" + id + "/"})
			return "", fmt.Errorf("table %s, index %s: %w", t.name, ix, err)
		}
	}
	return id, nil
}

// resolveRefs gives each reference field the schema_id of its
// schema_name (a table name or id).
func resolveRefs(t schemaTable, byName map[string]string) (map[string]json.RawMessage, error) {
	body := map[string]json.RawMessage{}
	for k, v := range t.raw {
		body[k] = v
	}
	var sc map[string]json.RawMessage
	if json.Unmarshal(t.raw["schema"], &sc) != nil {
		return body, nil
	}
	var fields []map[string]any
	if json.Unmarshal(sc["fields"], &fields) != nil {
		return body, nil
	}
	for _, f := range fields {
		if f["type"] != "reference" {
			continue
		}
		ref, _ := f["schema_name"].(string)
		id, ok := byName[ref]
		if !ok {
			return nil, fmt.Errorf("table %s, field %v: table %q does not exist", t.name, f["name"], ref)
		}
		// The id as the table list gave it: a number on the platform, as
		// the hosted CLI copies it (item.schema_id = table.id).
		if _, err := strconv.ParseInt(id, 10, 64); err == nil {
			f["schema_id"] = json.Number(id)
		} else {
			f["schema_id"] = id
		}
		delete(f, "schema_name")
	}
	sc["fields"], _ = json.Marshal(fields)
	body["schema"], _ = json.Marshal(sc)
	return body, nil
}

// updateUserProfile updates the built-in user table, which can only be
// updated (§8.4).
func updateUserProfile(ctx context.Context, c *baas.Client, t schemaTable, byName map[string]string) ([]string, error) {
	id, ok := byName["_userprofile"]
	if !ok {
		return nil, errors.New("the app has no _userprofile table to update")
	}
	body := map[string]json.RawMessage{}
	for k, v := range t.raw {
		if k != "name" {
			body[k] = v
		}
	}
	if _, err := c.Do(ctx, baas.Request{Method: http.MethodPut, Path: "/oserve/v1.8/table/" + id + "/", Body: body, Name: t.name}); err != nil {
		return nil, err
	}
	return []string{"_userprofile (updated)"}, nil
}
