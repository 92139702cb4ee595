package datastore

import (
	"context"
	"strconv"
	"strings"
)

// Access is a Web API caller, to whom the row ACLs apply (§5): an
// anonymous one (UserID 0) or a user, with the groups it belongs to.
// Functions, the Open API and Go run as the super-admin: their context
// carries no Access, and the ACLs do not apply, as on the platform.
type Access struct {
	UserID int64   // 0: anonymous
	Groups []int64 // the user's group ids (gid:<id> entries)
}

type accessKey struct{}

// AsCaller makes the store's operations under ctx act for a: finds,
// counts and pages see only the rows whose read_perm admits a, and writes
// touch only rows whose write_perm does. A nil a is the super-admin.
func AsCaller(ctx context.Context, a *Access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

// accessOf is the caller under ctx; nil for the super-admin.
func accessOf(ctx context.Context) *Access {
	a, _ := ctx.Value(accessKey{}).(*Access)
	return a
}

// principals are the ACL entries that admit a: "user:anonymous" admits
// everyone (anonymous callers and users), "user:*" every user, then the
// user's own id and groups.
func (a *Access) principals() []string {
	p := []string{"user:anonymous"}
	if a.UserID == 0 {
		return p
	}
	p = append(p, "user:*", "user:"+strconv.FormatInt(a.UserID, 10))
	for _, g := range a.Groups {
		p = append(p, "gid:"+strconv.FormatInt(g, 10))
	}
	return p
}

// admits reports whether an ACL (a record's read_perm or write_perm, or a
// table's write_perm) lets a in. A nil a (the super-admin) is always let
// in.
func (a *Access) admits(acl any) bool {
	if a == nil {
		return true
	}
	var entries []string
	switch v := acl.(type) {
	case []string:
		entries = v
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				entries = append(entries, s)
			}
		}
	}
	for _, want := range a.principals() {
		for _, e := range entries {
			if e == want {
				return true
			}
		}
	}
	return false
}

// aclSQL is the SQL condition that a record's perm field ("read_perm" or
// "write_perm") admits a, and its arguments; "" for the super-admin. It
// runs in the database, so a find filters, counts and pages the rows the
// caller may see there, not in Go.
func aclSQL(a *Access, field string) (string, []any) {
	if a == nil {
		return "", nil
	}
	p := a.principals()
	args := make([]any, len(p))
	for i, s := range p {
		args[i] = s
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(p)), ",")
	return "EXISTS (SELECT 1 FROM json_each(doc, '$." + field + "') WHERE value IN (" + marks + "))", args
}

// withACL adds the read or write ACL of ctx's caller to a where's SQL.
func withACL(ctx context.Context, field, expr string, args []any) (string, []any) {
	cond, extra := aclSQL(accessOf(ctx), field)
	if cond == "" {
		return expr, args
	}
	return "(" + expr + ") AND " + cond, append(append([]any(nil), args...), extra...)
}

// checkCreate answers whether ctx's caller may add records to t: the
// table's write_perm (the dashboard's 数据表录入权限) decides; [] admits
// nobody but the super-admin. Refused: 403, as the platform's "没有权限写入数据".
func checkCreate(ctx context.Context, t *Table) error {
	a := accessOf(ctx)
	if a.admits(t.WritePerm) {
		return nil
	}
	who := "an anonymous caller"
	if a.UserID != 0 {
		who = "user " + strconv.FormatInt(a.UserID, 10)
	}
	return &Error{Status: 403, Msg: "Permission denied: the write_perm of table " + strconv.Quote(t.Name) + " does not let " + who + " add records."}
}

// checkRow answers whether ctx's caller may write doc. A record the caller
// may not read is 404, as a get of it is (the platform answers 404 for a
// row hidden by its read_perm); one it may read but not write is 403.
func checkRow(ctx context.Context, t *Table, doc Doc, verb string) error {
	a := accessOf(ctx)
	if a == nil {
		return nil
	}
	id, _ := doc["id"].(string)
	if !a.admits(doc["read_perm"]) {
		return notFound("Record %q of table %q does not exist.", id, t.Name)
	}
	if !a.admits(doc["write_perm"]) {
		return &Error{Status: 403, Msg: "Permission denied: the write_perm of record " + strconv.Quote(id) + " does not let this caller " + verb + " it."}
	}
	return nil
}

// resolveCreator replaces the dashboard's "user:{created_by}" template in
// a new record's ACLs with its creator (dropped when the creator is
// anonymous: then only the super-admin is let in by that entry). The
// platform does not say when it resolves the template; at creation is the
// only time the creator is known for sure.
func resolveCreator(doc Doc, createdBy int64) {
	for _, k := range []string{"read_perm", "write_perm"} {
		list, ok := doc[k].([]any)
		if !ok {
			continue
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			if e == "user:{created_by}" {
				if createdBy == 0 {
					continue
				}
				e = "user:" + strconv.FormatInt(createdBy, 10)
			}
			out = append(out, e)
		}
		doc[k] = out
	}
}
