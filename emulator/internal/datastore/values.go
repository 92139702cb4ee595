package datastore

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// objectKeyRule is the rule for an object field's keys (§6.1).
var objectKeyRule = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// dateLayout is how the emulator stores and answers date fields: six
// fractional digits, as the platform's examples; in UTC, the emulator's
// timezone (§10.10), so that dates compare as strings.
const dateLayout = "2006-01-02T15:04:05.000000"

// normDate parses an ISO 8601 date (with an offset, or none meaning UTC)
// into the stored form.
func normDate(s string) (string, error) {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return "", err
	}
	return t.UTC().Format(dateLayout) + "+00:00", nil
}

// checkValue says whether v fits a declared field, and gives the value
// to store. No coercion (§10.11): "1" is no integer and 1.5 is no
// integer; an integer is a number.
func checkValue(f *Field, v any) (any, bool) {
	if v == nil {
		return nil, true // null empties any field
	}
	return checkType(f.Type, f, v)
}

func checkType(typ string, f *Field, v any) (any, bool) {
	switch typ {
	case "string":
		_, ok := v.(string)
		return v, ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return v, false
		}
		_, err := strconv.ParseInt(n.String(), 10, 64)
		return v, err == nil
	case "number":
		_, ok := v.(json.Number)
		return v, ok
	case "boolean":
		_, ok := v.(bool)
		return v, ok
	case "date":
		s, ok := v.(string)
		if !ok {
			return v, false
		}
		d, err := normDate(s)
		return d, err == nil
	case "object":
		m, ok := v.(map[string]any)
		return v, ok && objectKeysOK(m)
	case "geojson":
		b, _ := json.Marshal(v)
		if _, _, ok := parsePoint(string(b)); ok {
			return v, true
		}
		_, ok := parsePolygon(string(b))
		return v, ok
	case "file":
		m, ok := v.(map[string]any)
		if !ok {
			return v, false
		}
		for _, k := range []string{"id", "name", "created_at", "mime_type", "cdn_path", "size"} {
			if _, ok := m[k]; !ok {
				return v, false
			}
		}
		return v, true
	case "reference":
		switch x := v.(type) {
		case string:
			return x, x != ""
		case json.Number:
			return x, true
		case map[string]any: // a pointer as read back: {"id","_table"}
			id, ok := x["id"]
			if s, isStr := id.(string); ok && (isStr && s != "" || !isStr) {
				return id, true
			}
		}
		return v, false
	case "array":
		list, ok := v.([]any)
		if !ok {
			return v, false
		}
		item := "string"
		if f != nil && f.Items != nil {
			item = f.Items.Type
		}
		out := make([]any, len(list))
		for i, e := range list {
			// A wrong element drops the whole field (§6.1).
			ev, ok := checkType(item, nil, e)
			if !ok {
				return v, false
			}
			out[i] = ev
		}
		return out, true
	}
	return v, true
}

func objectKeysOK(m map[string]any) bool {
	for k, v := range m {
		if !objectKeyRule.MatchString(k) {
			return false
		}
		if sub, ok := v.(map[string]any); ok && !objectKeysOK(sub) {
			return false
		}
	}
	return true
}

// change is one field write of an update: a value, or an operator.
type change struct {
	path string
	op   string // "" for a plain value
	val  any
}

// update is a parsed update body.
type update struct {
	sets   []change
	unsets []string
}

// updateOps are the operators a $set (or flat) value may be (§4.2).
var updateOps = map[string]bool{"$incr_by": true, "$append": true, "$append_unique": true, "$remove": true, "$update": true, "$pop": true}

// parseUpdate reads an update body: the SDK's {"$set":{…},"$unset":{…}},
// or the flat form of the Open API and iOS SDK (other keys are $set).
func parseUpdate(body map[string]any) (*update, error) {
	u := &update{}
	add := func(path string, v any) error {
		if !fieldPathRule.MatchString(path) {
			return badRequest("Invalid field name %q: a name starts with a letter and has letters, digits and _.", path)
		}
		if path == "id" || path == "_id" {
			return badRequest("The id of a record cannot be changed.")
		}
		if m, ok := v.(map[string]any); ok {
			var ops []string
			for k := range m {
				if strings.HasPrefix(k, "$") {
					ops = append(ops, k)
				}
			}
			if len(ops) > 0 {
				if len(m) != 1 {
					return badRequest("Invalid value for %s: an operator (%s) stands alone in its object.", path, ops[0])
				}
				if !updateOps[ops[0]] {
					return badRequest("Invalid value for %s: operator %s is not supported (use $incr_by, $append, $append_unique, $remove, $update, $pop).", path, ops[0])
				}
				c, err := checkOp(path, ops[0], m[ops[0]])
				if err != nil {
					return err
				}
				u.sets = append(u.sets, c)
				return nil
			}
		}
		u.sets = append(u.sets, change{path: path, val: v})
		return nil
	}
	for _, k := range sortedKeys(body) {
		v := body[k]
		switch k {
		case "$set":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, badRequest("Invalid body: $set must be an object, not %s.", describe(v))
			}
			for _, p := range sortedKeys(m) {
				if err := add(p, m[p]); err != nil {
					return nil, err
				}
			}
		case "$unset":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, badRequest("Invalid body: $unset must be an object, not %s.", describe(v))
			}
			for _, p := range sortedKeys(m) {
				if !fieldPathRule.MatchString(p) {
					return nil, badRequest("Invalid field name %q in $unset.", p)
				}
				if p == "id" || p == "_id" || p == "created_at" {
					return nil, badRequest("Field %s cannot be unset.", p)
				}
				u.unsets = append(u.unsets, p)
			}
		default:
			if strings.HasPrefix(k, "$") {
				return nil, badRequest("Invalid body: operator %s is not supported at the top (use $set and $unset, or field: value).", k)
			}
			if err := add(k, v); err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}

// checkOp checks an operator's argument.
func checkOp(path, op string, v any) (change, error) {
	c := change{path: path, op: op, val: v}
	switch op {
	case "$incr_by":
		if _, ok := v.(json.Number); !ok {
			return c, badRequest("Invalid value for %s: $incr_by needs a number, not %s.", path, describe(v))
		}
	case "$append", "$append_unique", "$remove":
		if _, ok := v.([]any); !ok {
			c.val = []any{v} // a single value, as the SDK wraps one
		}
	case "$update":
		m, ok := v.(map[string]any)
		if !ok {
			return c, badRequest("Invalid value for %s: $update needs an object, not %s.", path, describe(v))
		}
		if !objectKeysOK(m) {
			return c, badRequest("Invalid value for %s: $update keys start with a letter and have letters, digits and _.", path)
		}
	case "$pop":
		n, ok := v.(json.Number)
		if !ok || (n.String() != "1" && n.String() != "-1") {
			return c, badRequest("Invalid value for %s: $pop takes 1 (drop the last element) or -1 (the first), not %s.", path, describe(v))
		}
	}
	return c, nil
}

// getPath reads a dotted path in doc.
func getPath(doc map[string]any, path string) (any, bool) {
	parts := strings.Split(path, ".")
	cur := doc
	for i, p := range parts {
		v, ok := cur[p]
		if !ok {
			return nil, false
		}
		if i == len(parts)-1 {
			return v, true
		}
		if cur, ok = v.(map[string]any); !ok {
			return nil, false
		}
	}
	return nil, false
}

// setPath writes a dotted path, making the objects on the way.
func setPath(doc map[string]any, path string, v any) error {
	parts := strings.Split(path, ".")
	cur := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p]
		if !ok || next == nil {
			m := map[string]any{}
			cur[p] = m
			cur = m
			continue
		}
		if cur, ok = next.(map[string]any); !ok {
			return badRequest("Cannot write %s: %s is not an object.", path, p)
		}
	}
	cur[parts[len(parts)-1]] = v
	return nil
}

// unsetPath removes a key: $unset removes it rather than storing null
// (§10.13, as MongoDB's $unset).
func unsetPath(doc map[string]any, path string) {
	parts := strings.Split(path, ".")
	cur := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
	delete(cur, parts[len(parts)-1])
}

// applyChange computes a field's new value.
func applyChange(doc map[string]any, c change) (any, error) {
	if c.op == "" {
		return c.val, nil
	}
	cur, _ := getPath(doc, c.path)
	switch c.op {
	case "$incr_by":
		// A missing or null field counts as 0 (§10.14).
		if cur == nil {
			cur = json.Number("0")
		}
		a, ok := cur.(json.Number)
		if !ok {
			return nil, badRequest("Cannot $incr_by %s: it holds %s, not a number.", c.path, describe(cur))
		}
		return addNumbers(a, c.val.(json.Number)), nil
	case "$append", "$append_unique", "$remove", "$pop":
		if cur == nil {
			cur = []any{}
		}
		list, ok := cur.([]any)
		if !ok {
			return nil, badRequest("Cannot %s on %s: it holds %s, not an array.", c.op, c.path, describe(cur))
		}
		switch c.op {
		case "$append":
			return append(append([]any{}, list...), c.val.([]any)...), nil
		case "$append_unique":
			out := append([]any{}, list...)
			for _, e := range c.val.([]any) {
				if !containsJSON(out, e) {
					out = append(out, e)
				}
			}
			return out, nil
		case "$remove":
			out := []any{}
			for _, e := range list {
				if !containsJSON(c.val.([]any), e) {
					out = append(out, e)
				}
			}
			return out, nil
		default: // $pop
			if len(list) == 0 {
				return list, nil
			}
			if c.val.(json.Number).String() == "1" {
				return append([]any{}, list[:len(list)-1]...), nil
			}
			return append([]any{}, list[1:]...), nil
		}
	case "$update":
		if cur == nil {
			cur = map[string]any{}
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, badRequest("Cannot $update %s: it holds %s, not an object.", c.path, describe(cur))
		}
		out := make(map[string]any, len(obj))
		for k, v := range obj {
			out[k] = v
		}
		// Shallow, as Object.assign (§4.3).
		for k, v := range c.val.(map[string]any) {
			out[k] = v
		}
		return out, nil
	}
	return nil, badRequest("Operator %s is not supported.", c.op)
}

// addNumbers adds exactly when both are integers.
func addNumbers(a, b json.Number) json.Number {
	ai, err1 := strconv.ParseInt(a.String(), 10, 64)
	bi, err2 := strconv.ParseInt(b.String(), 10, 64)
	if err1 == nil && err2 == nil {
		s := ai + bi
		if (s > ai) == (bi > 0) { // no overflow
			return json.Number(strconv.FormatInt(s, 10))
		}
	}
	af, _ := a.Float64()
	bf, _ := b.Float64()
	r := af + bf
	if r == math.Trunc(r) && math.Abs(r) < 1e15 {
		return json.Number(strconv.FormatFloat(r, 'f', -1, 64))
	}
	return json.Number(strconv.FormatFloat(r, 'g', -1, 64))
}

func containsJSON(list []any, v any) bool {
	want, _ := json.Marshal(v)
	for _, e := range list {
		b, _ := json.Marshal(e)
		if string(b) == string(want) {
			return true
		}
	}
	return false
}
