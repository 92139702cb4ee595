package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mincloud-go/baas"
	"github.com/mincloud-go/baas/internal/clientinfo"
)

// dataBatch is how many records one request reads or creates: the
// platform's cap (§2.3, §2.4).
const dataBatch = 1000

// openAPI is the SDK client for the data commands, which use the Open API
// (a client secret is needed), against the platform or 'mincloud serve'.
func (a *app) openAPI(cmd *cobra.Command) (*baas.Client, error) {
	c, err := a.client(cmd)
	if err != nil {
		return nil, err
	}
	if !clientinfo.Of(c).OpenAPI {
		return nil, usageErr(cmd, "%s needs a client secret: run 'mincloud login CLIENT_ID CLIENT_SECRET', or set --client-secret or MINCLOUD_CLIENT_SECRET", cmd.CommandPath())
	}
	return c, nil
}

// tableID finds a table's id by its name (GET /oserve/v1.8/table/?name=):
// the Open API's record paths take the id (§8.1). A number is taken as
// an id already. A name the list does not hold is returned as it is, so
// that the server answers for it: 'mincloud serve' without a schema makes
// a table by its first write (an import into a fresh emulator works, an
// export of a table never written is empty), and a server that knows no
// such table answers 404 naming it.
func tableID(ctx context.Context, c *baas.Client, name string) (id string, listed bool, err error) {
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return name, true, nil
	}
	resp, err := c.Do(ctx, baas.Request{Method: http.MethodGet, Path: "/oserve/v1.8/table/", Query: url.Values{"name": {name}}, Name: name})
	if err != nil {
		return "", false, err
	}
	var page struct {
		Objects []struct {
			ID   json.Number `json:"id"`
			Name string      `json:"name"`
		} `json:"objects"`
	}
	if err := resp.Unmarshal(&page); err != nil {
		return "", false, err
	}
	for _, o := range page.Objects {
		if o.Name == name {
			return o.ID.String(), true, nil
		}
	}
	return url.PathEscape(name), false, nil
}

func (a *app) dataCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Export and import a table's records as JSON lines",
		Long: `data moves a table's records in and out as JSON lines (one record per
line), through the Open API, against the platform or 'mincloud serve'
(a client secret is needed). export reads pages of 1000 records, oldest
first; import creates them in batches of 1000 (createMany).`,
	}
	cmd.AddCommand(uses(a.dataExportCommand(), flagConn), uses(a.dataImportCommand(), flagConn))
	return cmd
}

func (a *app) dataExportCommand() *cobra.Command {
	var where, output string
	cmd := &cobra.Command{
		Use:   "export TABLE",
		Short: "Write every record of TABLE (or those --where matches) as JSON lines",
		Example: `  mincloud data export product > product.jsonl
  mincloud data export product --where '{"price":{"$gt":10}}' -o dear.jsonl`,
		Args: exactArgs("TABLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if where != "" && !json.Valid([]byte(where)) {
				return usageErr(cmd, "--where is not JSON: %q", where)
			}
			c, err := a.openAPI(cmd)
			if err != nil {
				return err
			}
			out := a.stdout
			if output != "" {
				f, err := os.Create(output)
				if err != nil {
					return failed(err)
				}
				defer f.Close()
				out = f
			}
			w := bufio.NewWriter(out)
			n, err := exportTable(cmd.Context(), c, args[0], where, w)
			if ferr := w.Flush(); err == nil && ferr != nil {
				err = failed(ferr)
			}
			if err != nil {
				return failed(err)
			}
			fmt.Fprintf(a.stderr, "exported %d records of %s\n", n, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&where, "where", "", "only the records this where (the platform's JSON) matches")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

// missingTable says a table does not exist when a server answered 404 to
// a table its list lacks without naming it: clearer than the platform's
// bare "Not found.". An answer that names the table is the server's word.
func missingTable(err error, table string, listed bool) error {
	var he *baas.HError
	if !listed && errors.As(err, &he) && he.Code == http.StatusNotFound && !strings.Contains(he.Message, table) {
		return &baas.HError{Code: http.StatusNotFound, Message: fmt.Sprintf("table %q does not exist", table)}
	}
	return err
}

// exportTable writes the records page by page, in a stable order.
func exportTable(ctx context.Context, c *baas.Client, table, where string, w io.Writer) (int, error) {
	id, listed, err := tableID(ctx, c, table)
	if err != nil {
		return 0, err
	}
	if where == "" {
		where = "{}"
	}
	n, prevFirst := 0, ""
	for offset := 0; ; offset += dataBatch {
		q := url.Values{"limit": {strconv.Itoa(dataBatch)}, "offset": {strconv.Itoa(offset)},
			"order_by": {"created_at,id"}, "where": {where}}
		resp, err := c.Do(ctx, baas.Request{Method: http.MethodGet, Path: "/oserve/v2.4/table/" + id + "/record/", Query: q, Name: table})
		if err != nil {
			return n, missingTable(err, table, listed)
		}
		var page struct {
			Meta struct {
				Next       json.RawMessage `json:"next"` // absent (nil), null or the next page's URL
				TotalCount *int            `json:"total_count"`
			} `json:"meta"`
			Objects []json.RawMessage `json:"objects"`
		}
		if err := resp.Unmarshal(&page); err != nil {
			return n, err
		}
		// A server that does not page by offset answers the same page
		// again: stop, rather than write it again and again for ever.
		first := firstID(page.Objects)
		if offset > 0 && first != "" && first == prevFirst {
			return n, &baas.HError{Code: resp.StatusCode, StatusCode: resp.StatusCode, Message: fmt.Sprintf(
				"the server answered the page at offset %d with the records of the page before (first id %s): it does not page by offset; stopped after %d records", offset, first, n)}
		}
		prevFirst = first
		for _, o := range page.Objects {
			var line bytes.Buffer
			if err := json.Compact(&line, o); err != nil {
				return n, err
			}
			line.WriteByte('\n')
			if _, err := w.Write(line.Bytes()); err != nil {
				return n, failed(err)
			}
			n++
		}
		// The last page: a short one, the platform's meta.next null, or
		// the total_count reached when the server gives it.
		if len(page.Objects) < dataBatch ||
			string(page.Meta.Next) == "null" || string(page.Meta.Next) == `""` ||
			page.Meta.TotalCount != nil && offset+len(page.Objects) >= *page.Meta.TotalCount {
			return n, nil
		}
	}
}

// firstID is the id of a page's first record ("" when there is none).
func firstID(objs []json.RawMessage) string {
	if len(objs) == 0 {
		return ""
	}
	var o struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(objs[0], &o) != nil {
		return ""
	}
	return string(o.ID)
}

func (a *app) dataImportCommand() *cobra.Command {
	var newIDs bool
	cmd := &cobra.Command{
		Use:   "import TABLE FILE",
		Short: "Create records in TABLE from FILE, JSON lines ('-' reads stdin)",
		Long: `import creates one record per line of FILE in TABLE, 1000 per request
(createMany). A line as export wrote it goes back as it was: _id is left
out, a pointer {"id","_table"} becomes its id, and id, created_at,
created_by and the permissions are kept (the emulator honours a given id;
--new-ids leaves ids out so that new ones are made). A table the server
does not list is sent by name, so that 'mincloud serve' without a schema
makes it with the first write. Records the server refuses are listed on
stderr and the exit code is 1. Each batch is sent as soon as it is read;
a line that is not a JSON object stops the import there (nothing is sent
when it is in the first 1000 records).`,
		Example: `  mincloud data import product product.jsonl
  mincloud data export product | mincloud --host http://127.0.0.1:8080 data import product -`,
		Args: exactArgs("TABLE", "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = a.stdin
			if args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return failed(err)
				}
				defer f.Close()
				in = f
			}
			// Batches are sent as they are read: a file of any size needs
			// the memory of one batch. A bad line in the first batch stops
			// everything before anything is sent.
			lines := newLineReader(in, newIDs)
			first, err := lines.batch(dataBatch)
			if err != nil {
				return usageErr(cmd, "%s: %v", args[1], err)
			}
			c, err := a.openAPI(cmd)
			if err != nil {
				return err
			}
			ok, refused, err := importRecords(cmd.Context(), c, args[0], first, lines, a.stderr)
			if err != nil {
				var bad *badLineError
				if errors.As(err, &bad) {
					return failed(fmt.Errorf("%s: %v; the %d records before it were imported", args[1], err, ok))
				}
				return failed(err)
			}
			fmt.Fprintf(a.stderr, "imported %d records into %s\n", ok, args[0])
			if refused > 0 {
				return failed(fmt.Errorf("%d records were refused", refused))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&newIDs, "new-ids", false, "leave the lines' ids out, so that the records get new ones")
	return cmd
}

// lineReader reads JSON lines into records ready to create, a batch at
// a time.
type lineReader struct {
	sc     *bufio.Scanner
	newIDs bool
	line   int
}

func newLineReader(r io.Reader, newIDs bool) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &lineReader{sc: sc, newIDs: newIDs}
}

// badLineError is a line that is not a JSON object.
type badLineError struct{ line int }

func (e *badLineError) Error() string { return fmt.Sprintf("line %d is not a JSON object", e.line) }

// batch reads up to n records; fewer (none at all) at the end.
func (lr *lineReader) batch(n int) ([]map[string]any, error) {
	var out []map[string]any
	for len(out) < n && lr.sc.Scan() {
		lr.line++
		b := bytes.TrimSpace(lr.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var rec map[string]any
		if err := d.Decode(&rec); err != nil || rec == nil {
			return nil, &badLineError{line: lr.line}
		}
		delete(rec, "_id")
		if lr.newIDs {
			delete(rec, "id")
		}
		for k, v := range rec {
			// A pointer as export wrote it: {"id", "_table", ...}.
			if m, ok := v.(map[string]any); ok {
				if _, isPtr := m["_table"]; isPtr {
					rec[k] = m["id"]
				}
			}
		}
		out = append(out, rec)
	}
	return out, lr.sc.Err()
}

// importRecords creates the records in batches, first and then those
// lines reads, each sent before the next is read; it returns how many
// were created and refused, and lists the refused ones on errOut.
func importRecords(ctx context.Context, c *baas.Client, table string, first []map[string]any, lines *lineReader, errOut io.Writer) (int, int, error) {
	id, listed, err := tableID(ctx, c, table)
	if err != nil {
		return 0, 0, err
	}
	ok, refused, start := 0, 0, 0
	for batch := first; len(batch) > 0; {
		resp, err := c.Do(ctx, baas.Request{Method: http.MethodPost, Path: "/oserve/v2.4/table/" + id + "/record/",
			Query: url.Values{"enable_trigger": {"0"}}, Body: batch, Name: table})
		if err != nil {
			return ok, refused, missingTable(err, table, listed)
		}
		var res struct {
			Succeed         int `json:"succeed"`
			OperationResult []struct {
				Error *struct {
					Code   int    `json:"code"`
					ErrMsg string `json:"err_msg"`
				} `json:"error"`
			} `json:"operation_result"`
		}
		if err := resp.Unmarshal(&res); err != nil {
			return ok, refused, err
		}
		ok += res.Succeed
		for i, r := range res.OperationResult {
			if r.Error != nil {
				refused++
				fmt.Fprintf(errOut, "record %d refused: %d %s\n", start+i+1, r.Error.Code, r.Error.ErrMsg)
			}
		}
		start += len(batch)
		if batch, err = lines.batch(dataBatch); err != nil {
			return ok, refused, err
		}
	}
	return ok, refused, nil
}
