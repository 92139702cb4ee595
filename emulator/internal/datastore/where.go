package datastore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// fieldPathRule is a field name, or a dotted path into an object field
// (obj.amount). Names are the platform's, plus a leading _ for the system
// fields (_id); either way they are safe inside an SQL string literal.
var fieldPathRule = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63})*$`)

// jsonPath is the SQLite JSON path of a field (_id is id).
func jsonPath(field string) string {
	if field == "_id" {
		field = "id"
	}
	return "$." + field
}

// jsonExtract is the SQL expression of a field's value.
func jsonExtract(field string) string { return "json_extract(doc, '" + jsonPath(field) + "')" }

// jsonType is the SQL expression of a field's JSON type (NULL if absent).
func jsonType(field string) string { return "json_type(doc, '" + jsonPath(field) + "')" }

// decodeJSON parses JSON keeping numbers exact (json.Number).
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("extra data after the JSON value")
	}
	return nil
}

// whereSQL is a compiled where: an SQL boolean expression and its
// arguments, plus what the caller should know (fields to index, a geo
// distance to order by).
type whereSQL struct {
	expr   string
	args   []any
	fields []string
	near   *nearSort
	// eqFields are fields every match equals a scalar on (conditions
	// ANDed from the top): an index on (eq field, sort field) serves the
	// filter and the order at once.
	eqFields []string
}

type nearSort struct {
	field    string
	lng, lat float64
}

// compileWhere turns the platform's where (JSON text; empty means every
// record) into SQL. Several keys in one object are ANDed (§10.17: the SDK
// emits {"$or":[…],"$and":[…]} after or().compare(), which only makes
// sense as AND).
func compileWhere(t *Table, where []byte) (*whereSQL, error) {
	w := &whereSQL{expr: "1"}
	if len(bytes.TrimSpace(where)) == 0 {
		return w, nil
	}
	var v any
	if err := decodeJSON(where, &v); err != nil {
		return nil, badRequest("Invalid where: not JSON (%v).", err)
	}
	c := &compiler{t: t, w: w}
	expr, err := c.node(v, "where", true)
	if err != nil {
		return nil, err
	}
	w.expr = expr
	return w, nil
}

type compiler struct {
	t *Table
	w *whereSQL
}

func (c *compiler) arg(v any) string {
	c.w.args = append(c.w.args, v)
	return "?"
}

// node compiles one where object; conj says every match must meet it
// (it is ANDed from the top, under no $or).
func (c *compiler) node(v any, at string, conj bool) (string, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return "", badRequest("Invalid where: %s must be an object, not %s.", at, describe(v))
	}
	keys := sortedKeys(obj)
	var parts []string
	for _, k := range keys {
		val := obj[k]
		switch {
		case k == "$and" || k == "$or":
			list, ok := val.([]any)
			if !ok {
				return "", badRequest("Invalid where: %s needs an array of conditions, not %s.", k, describe(val))
			}
			var sub []string
			for i, e := range list {
				s, err := c.node(e, fmt.Sprintf("%s[%d]", k, i), conj && k == "$and")
				if err != nil {
					return "", err
				}
				sub = append(sub, "("+s+")")
			}
			switch {
			case len(sub) == 0:
				// An empty Query.and()/Query.or() adds no condition.
				parts = append(parts, "1")
			case k == "$and":
				parts = append(parts, strings.Join(sub, " AND "))
			default:
				parts = append(parts, strings.Join(sub, " OR "))
			}
		case strings.HasPrefix(k, "$"):
			return "", badRequest("Invalid where: unknown operator %s at the top of a condition (only $and and $or go there).", k)
		default:
			s, err := c.field(k, val, conj)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "1", nil
	}
	return "(" + strings.Join(parts, ") AND (") + ")", nil
}

// field compiles the conditions on one field: {op: value, ...} (all must
// hold), or a bare value, taken as $eq.
func (c *compiler) field(name string, val any, conj bool) (string, error) {
	if !fieldPathRule.MatchString(name) {
		return "", badRequest("Invalid where: %q is not a field name (a name starts with a letter and has letters, digits and _).", name)
	}
	top, _, _ := strings.Cut(name, ".")
	if c.t.Declared && c.t.fieldType(top) == "" {
		return "", badRequest("Invalid where: table %q has no field %q.", c.t.Name, top)
	}
	c.w.fields = append(c.w.fields, name)
	ops, isOps := val.(map[string]any)
	if isOps {
		for k := range ops {
			if !strings.HasPrefix(k, "$") {
				isOps = false
				break
			}
		}
	}
	if !isOps || len(ops) == 0 {
		c.noteEq(name, val, conj)
		return c.op(name, "$eq", val, nil)
	}
	if v, ok := ops["$eq"]; ok {
		c.noteEq(name, v, conj)
	}
	var parts []string
	for _, op := range sortedKeys(ops) {
		if op == "$options" {
			if _, ok := ops["$regex"]; !ok {
				return "", badRequest("Invalid where on %s: $options goes with $regex.", name)
			}
			continue
		}
		s, err := c.op(name, op, ops[op], ops)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return "(" + strings.Join(parts, ") AND (") + ")", nil
}

// noteEq records an equality every match has, on a scalar.
func (c *compiler) noteEq(name string, v any, conj bool) {
	if !conj || name == "created_by" || c.t.fieldType(name) == "reference" {
		return
	}
	switch v.(type) {
	case string, json.Number, bool:
		c.w.eqFields = append(c.w.eqFields, name)
	}
}

// opTypes is what each operator applies to (§3.3, the union of the
// sources' tables). Checked only on declared fields; an undeclared table
// lets the stored values decide.
var opTypes = map[string]string{
	"$eq":         "string integer number array boolean date object reference id",
	"$ne":         "string integer number boolean date reference id array object",
	"$lt":         "integer number date string id",
	"$lte":        "integer number date string id",
	"$gt":         "integer number date string id",
	"$gte":        "integer number date string id",
	"$in":         "string integer number array reference id date",
	"$nin":        "string integer number array reference id date",
	"$contains":   "string",
	"$icontains":  "string",
	"$regex":      "string",
	"$all":        "array",
	"$isnull":     "*",
	"$exists":     "*",
	"$has_key":    "object",
	"$range":      "integer number date id",
	"$intersects": "geojson",
	"$within":     "geojson",
	"$center":     "geojson",
	"$nearsphere": "geojson",
}

func (c *compiler) op(name, op string, v any, all map[string]any) (string, error) {
	allowed, known := opTypes[op]
	if !known {
		return "", badRequest("Invalid where on %s: unknown operator %s.", name, op)
	}
	top, _, nested := strings.Cut(name, ".")
	ftype := ""
	if !nested {
		ftype = c.t.fieldType(top)
	} else if c.t.fieldType(top) != "" && c.t.fieldType(top) != "object" {
		return "", badRequest("Invalid where: %s is a %s field; only object fields have sub-fields.", top, c.t.fieldType(top))
	}
	if ftype != "" && allowed != "*" && !strings.Contains(" "+allowed+" ", " "+ftype+" ") {
		return "", badRequest("Invalid where: operator %s is not supported on %s field %s.", op, ftype, name)
	}
	// Arrays of file, geojson, object or date cannot be queried: the
	// platform answers an empty list (§3.3).
	if ftype == "array" && op != "$isnull" && op != "$exists" {
		if f := c.t.Field(top); f != nil && f.Items != nil {
			switch f.Items.Type {
			case "file", "geojson", "object", "date":
				return "0", nil
			}
		}
	}
	x, typ := jsonExtract(name), jsonType(name)
	loose := name == "created_by" || ftype == "reference"
	isDate := ftype == "date"
	switch op {
	case "$eq":
		return c.eq(name, x, typ, v, loose, isDate)
	case "$ne":
		e, err := c.eq(name, x, typ, v, loose, isDate)
		if err != nil {
			return "", err
		}
		// A record without the field is "not equal" (MongoDB's $ne).
		return "NOT COALESCE((" + e + "), 0)", nil
	case "$lt", "$lte", "$gt", "$gte":
		sqlOp := map[string]string{"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}[op]
		switch val := v.(type) {
		case json.Number:
			return numRange(c, x, op, val), nil
		case string:
			if isDate {
				d, err := normDate(val)
				if err != nil {
					return "", badRequest("Invalid where on %s: %s needs a date (ISO 8601, e.g. 2024-01-02T15:04:05+08:00), not %q.", name, op, val)
				}
				val = d
			}
			return fmt.Sprintf("%s = 'text' AND %s %s %s", typ, x, sqlOp, c.arg(val)), nil
		}
		return "", badRequest("Invalid where on %s: %s needs a number or a string, not %s.", name, op, describe(v))
	case "$in", "$nin":
		list, ok := v.([]any)
		if !ok {
			return "", badRequest("Invalid where on %s: %s needs an array, not %s.", name, op, describe(v))
		}
		var vals []any
		for _, e := range list {
			a, err := scalarArgs(name, op, e, loose, isDate)
			if err != nil {
				return "", err
			}
			vals = append(vals, a...)
		}
		set := func() string {
			phs := make([]string, len(vals))
			for i, a := range vals {
				phs[i] = c.arg(a)
			}
			return strings.Join(phs, ",")
		}
		var in string
		switch {
		case len(vals) == 0:
			in = "0"
		case loose:
			in = fmt.Sprintf("CAST(%s AS TEXT) IN (%s)", x, set())
		default:
			// A scalar field is one of the list; an array field shares an
			// element with it (§3.4).
			in = fmt.Sprintf("CASE %s WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(doc, '%s') WHERE value IN (%s)) ELSE %s IN (%s) END",
				typ, jsonPath(name), set(), x, set())
		}
		if op == "$nin" {
			return "NOT COALESCE((" + in + "), 0)", nil
		}
		return in, nil
	case "$contains", "$icontains":
		s, ok := v.(string)
		if !ok || s == "" {
			return "", badRequest("Invalid where on %s: %s needs a non-empty string, not %s.", name, op, describe(v))
		}
		if op == "$icontains" {
			return fmt.Sprintf("%s = 'text' AND instr(lower(%s), lower(%s)) > 0", typ, x, c.arg(s)), nil
		}
		return fmt.Sprintf("%s = 'text' AND instr(%s, %s) > 0", typ, x, c.arg(s)), nil
	case "$regex":
		pat, ok := v.(string)
		if !ok {
			return "", badRequest("Invalid where on %s: $regex needs a string, not %s.", name, describe(v))
		}
		flags := ""
		if o, ok := all["$options"]; ok {
			if flags, ok = o.(string); !ok {
				return "", badRequest("Invalid where on %s: $options needs a string of flags, not %s.", name, describe(o))
			}
		}
		re, err := compileRegex(pat, flags)
		if err != nil {
			return "", badRequest("Invalid where on %s: %v", name, err)
		}
		return fmt.Sprintf("%s = 'text' AND mc_regexp(%s, %s)", typ, c.arg(re), x), nil
	case "$all":
		list, ok := v.([]any)
		if !ok {
			return "", badRequest("Invalid where on %s: $all needs an array, not %s.", name, describe(v))
		}
		parts := []string{typ + " = 'array'"}
		for _, e := range list {
			vals, err := scalarArgs(name, op, e, false, false)
			if err != nil {
				return "", err
			}
			parts = append(parts, fmt.Sprintf("EXISTS (SELECT 1 FROM json_each(doc, '%s') WHERE value = %s)", jsonPath(name), c.arg(vals[0])))
		}
		return strings.Join(parts, " AND "), nil
	case "$isnull":
		b, ok := v.(bool)
		if !ok {
			return "", badRequest("Invalid where on %s: $isnull needs true or false, not %s.", name, describe(v))
		}
		// A missing field counts as null (§10.6, as MongoDB's {f: null}).
		if b {
			return fmt.Sprintf("COALESCE(%s, 'null') = 'null'", typ), nil
		}
		return fmt.Sprintf("COALESCE(%s, 'null') != 'null'", typ), nil
	case "$exists":
		b, ok := v.(bool)
		if !ok {
			return "", badRequest("Invalid where on %s: $exists needs true or false, not %s.", name, describe(v))
		}
		// Key presence, as the SDK's comment reads it (§10.5); a null
		// value is present.
		if b {
			return typ + " IS NOT NULL", nil
		}
		return typ + " IS NULL", nil
	case "$has_key":
		k, ok := v.(string)
		if !ok || !nameRule.MatchString(k) {
			return "", badRequest("Invalid where on %s: $has_key needs a key name (a letter, then letters, digits and _), not %s.", name, describe(v))
		}
		return fmt.Sprintf("%s = 'object' AND json_type(doc, '%s.%s') IS NOT NULL", typ, jsonPath(name), k), nil
	case "$range":
		list, ok := v.([]any)
		if !ok || len(list) != 2 {
			return "", badRequest("Invalid where on %s: $range needs [start, end], not %s.", name, describe(v))
		}
		a, ok1 := list[0].(json.Number)
		b, ok2 := list[1].(json.Number)
		if !ok1 || !ok2 {
			return "", badRequest("Invalid where on %s: $range needs two numbers.", name)
		}
		// Start included, end excluded, as the docs' [0,5] → 0…4.
		return fmt.Sprintf("%s IN ('integer','real') AND %s >= %s AND %s < %s", typ, x, c.arg(numArg(a)), x, c.arg(numArg(b))), nil
	case "$intersects", "$within", "$center", "$nearsphere":
		return c.geo(name, op, v)
	}
	return "", badRequest("Invalid where on %s: unknown operator %s.", name, op)
}

// eq compiles equality with v: same JSON type and value. Arrays and
// objects are equal when their JSON is (order matters, §10.7, as in
// MongoDB).
func (c *compiler) eq(name, x, typ string, v any, loose, isDate bool) (string, error) {
	switch val := v.(type) {
	case nil:
		return fmt.Sprintf("COALESCE(%s, 'null') = 'null'", typ), nil
	case bool:
		if val {
			return typ + " = 'true'", nil
		}
		return typ + " = 'false'", nil
	case json.Number:
		if loose {
			return fmt.Sprintf("CAST(%s AS TEXT) = %s", x, c.arg(val.String())), nil
		}
		// A JSON string or object never equals a number in SQLite; only
		// true and false (1 and 0 to json_extract) need the type check.
		if f, _ := val.Float64(); f == 0 || f == 1 {
			return fmt.Sprintf("%s IN ('integer','real') AND %s = %s", typ, x, c.arg(numArg(val))), nil
		}
		return fmt.Sprintf("%s = %s", x, c.arg(numArg(val))), nil
	case string:
		if loose {
			// Pointer ids compare loosely: the SDK sends user ids as strings.
			return fmt.Sprintf("CAST(%s AS TEXT) = %s", x, c.arg(val)), nil
		}
		if isDate {
			d, err := normDate(val)
			if err != nil {
				return "", badRequest("Invalid where on %s: $eq needs a date (ISO 8601), not %q.", name, val)
			}
			val = d
		}
		// Only an object's or array's JSON text could pass for a string
		// that looks like one: the type check is needed for those alone
		// (each json_* call parses the record again).
		if strings.HasPrefix(val, "[") || strings.HasPrefix(val, "{") {
			return fmt.Sprintf("%s = 'text' AND %s = %s", typ, x, c.arg(val)), nil
		}
		return fmt.Sprintf("%s = %s", x, c.arg(val)), nil
	case []any, map[string]any:
		b, _ := jsjson.Marshal(val)
		want := "array"
		if _, ok := val.(map[string]any); ok {
			want = "object"
		}
		return fmt.Sprintf("%s = '%s' AND %s = json(%s)", typ, want, x, c.arg(string(b))), nil
	}
	return "", badRequest("Invalid where on %s: cannot compare with %s.", name, describe(v))
}

// numRange compiles a comparison with a number as one BETWEEN, which
// evaluates the field once and excludes strings, objects and arrays (they
// sort after every number). Strict bounds move to the next double. As in
// sorting, true and false count as 1 and 0.
func numRange(c *compiler, x, op string, n json.Number) string {
	f, _ := n.Float64()
	lo, hi := any(math.Inf(-1)), any(math.Inf(1))
	switch op {
	case "$gt":
		lo = math.Nextafter(f, math.Inf(1))
	case "$gte":
		lo = numArg(n)
	case "$lt":
		hi = math.Nextafter(f, math.Inf(-1))
	case "$lte":
		hi = numArg(n)
	}
	return fmt.Sprintf("%s BETWEEN %s AND %s", x, c.arg(lo), c.arg(hi))
}

// scalarArgs is the SQL argument(s) an $in/$nin/$all element stands for.
func scalarArgs(name, op string, e any, loose, isDate bool) ([]any, error) {
	switch val := e.(type) {
	case json.Number:
		if loose {
			return []any{val.String()}, nil
		}
		return []any{numArg(val)}, nil
	case string:
		if isDate {
			if d, err := normDate(val); err == nil {
				return []any{d}, nil
			}
		}
		return []any{val}, nil
	case bool:
		if val {
			return []any{1}, nil
		}
		return []any{0}, nil
	}
	return nil, badRequest("Invalid where on %s: %s takes strings, numbers and booleans, not %s.", name, op, describe(e))
}

// numArg is a JSON number as SQLite compares it.
func numArg(n json.Number) any {
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

// describe names a JSON value's kind for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + x.String()
	case string:
		return strconv.Quote(x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
