package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mincloud-go/baas/emulator/internal/datastore"
	"github.com/mincloud-go/baas/emulator/internal/jsjson"
)

// The data API's paths (§1.2). The version segment is any vN[.M]: the SDK,
// the docs and the Open API use v2.2, v2.4, v2.5, v2.6 and v1.8 for the
// same resources.
const (
	pathRecords      = "/hserve/{ver}/table/{table}/record/"
	pathRecord       = pathRecords + "{id}/"
	pathOpenRecords  = "/oserve/{ver}/table/{table}/record/"
	pathOpenRecord   = pathOpenRecords + "{id}/"
	pathTables       = "/oserve/{ver}/table/"
	pathTable        = pathTables + "{table}/"
	pathWebTables    = "/hserve/{ver}/table/"
	pathWebTable     = pathWebTables + "{table}/"
	pathIndexes      = "/oserve/{ver}/schema/{table}/index/"
	pathIndex        = pathIndexes + "{index}/"
	pathServerTime   = "/hserve/{ver}/server/time/"
	pathBulkJob      = "/hserve/{ver}/bulk-operation/{id}/"
	pathOpenBulkJob  = "/oserve/{ver}/bulk-operation/{id}/"
	codeItemFailed   = 16837 // an item of a bulk update that failed (§2.4)
	codeItemConflict = 11000 // an item of createMany that failed (§2.4)
)

// dataRoutes are the data API's endpoints: the Web API (/hserve: the
// official JS SDK, and functions, whose calls carry the caller key) and
// the Open API (/oserve, with the Bearer token).
func (s *Server) dataRoutes() []route {
	web, open := s.webCaller, s.openCaller
	return []route{
		{"GET", pathRecords, false, web(s.listRecords)},
		{"POST", pathRecords, false, web(s.createRecords)},
		{"PUT", pathRecords, false, web(s.updateRecords)},
		{"DELETE", pathRecords, false, web(s.deleteRecords)},
		{"GET", pathRecord, false, web(s.getRecord)},
		{"PUT", pathRecord, false, web(s.updateRecord)},
		{"DELETE", pathRecord, false, web(s.deleteRecord)},
		{"GET", pathWebTables, false, web(s.listTables)},
		{"GET", pathWebTable, false, web(s.getTable)},
		{"GET", pathServerTime, false, s.serverTime},
		{"GET", pathBulkJob, false, web(s.getBulkJob)},

		{"GET", pathOpenRecords, true, open(s.listRecords)},
		{"POST", pathOpenRecords, true, open(s.createRecords)},
		{"PUT", pathOpenRecords, true, open(s.updateRecords)},
		{"DELETE", pathOpenRecords, true, open(s.deleteRecords)},
		{"GET", pathOpenRecord, true, open(s.getRecord)},
		{"PUT", pathOpenRecord, true, open(s.updateRecord)},
		{"DELETE", pathOpenRecord, true, open(s.deleteRecord)},
		{"GET", pathTables, true, open(s.listTables)},
		{"POST", pathTables, true, open(s.createTable)},
		{"GET", pathTable, true, open(s.getTable)},
		{"PUT", pathTable, true, open(s.updateTable)},
		{"DELETE", pathTable, true, open(s.deleteTable)},
		{"GET", pathIndexes, true, open(s.listIndexes)},
		{"POST", pathIndexes, true, open(s.createIndex)},
		{"DELETE", pathIndex, true, open(s.deleteIndex)},
		{"GET", pathOpenBulkJob, true, open(s.getBulkJob)},
	}
}

// dataCall is who calls, as the data API sees it, and the database of
// its environment. Whether the row ACLs apply travels in the request's
// context ([datastore.AsCaller]).
type dataCall struct {
	userID int64            // the created_by of what it creates; 0 for anonymous
	store  *datastore.Store // the tables of the call's X-Hydrogen-Env-ID
}

type dataHandler func(w http.ResponseWriter, r *http.Request, c dataCall)

var versionRule = regexp.MustCompile(`^v\d+(\.\d+)?$`)

// webCaller admits a Web API call: one from a function (the caller key:
// the super-admin, as on the platform, to whom row ACLs do not apply), or
// one with the app's client id, as a user when it carries a user token
// and as the anonymous user otherwise; the row ACLs apply to both (§5).
//
// The platform asks an anonymous caller to log in (or make a temporary
// user, BaaS.auth.anonymousLogin) before it writes, and answers 401
// otherwise; the emulator has no anonymous login, so a call without a
// token stands for that temporary user: "user:anonymous" entries admit
// it, "user:*" ones do not (the emulator's choice, where the platform's
// login flow cannot be followed).
func (s *Server) webCaller(h dataHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !versionRule.MatchString(r.PathValue("ver")) {
			writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
			return
		}
		// The caller is checked before its environment is opened: an
		// unauthenticated call must not use up the MaxDataEnvs slots (nor
		// make files, with WithDataFile).
		if s.fromFunction(r) {
			store, err := s.storeFor(r.Header.Get("X-Hydrogen-Env-ID"))
			if err != nil {
				writeDataError(w, err)
				return
			}
			h(w, r, dataCall{userID: SuperAdminUserID, store: store})
			return
		}
		switch id := r.Header.Get("X-Hydrogen-Client-ID"); {
		case id == "":
			writeError(w, http.StatusUnauthorized, "Authentication credentials were not provided: X-Hydrogen-Client-ID is missing.")
			return
		case id != s.ClientID:
			writeError(w, http.StatusUnauthorized, "Invalid client id.")
			return
		}
		c := dataCall{}
		acc := &datastore.Access{}
		if auth := r.Header.Get("Authorization"); auth != "" {
			tok, ok := strings.CutPrefix(auth, "Hydrogen-r1 ")
			u, known := s.userOf(tok)
			if !ok || !known {
				writeError(w, http.StatusUnauthorized, "Invalid token.")
				return
			}
			c.userID = u.ID
			acc.UserID, acc.Groups = u.ID, s.cfg.data.groups[u.ID]
		}
		store, err := s.storeFor(r.Header.Get("X-Hydrogen-Env-ID"))
		if err != nil {
			writeDataError(w, err)
			return
		}
		c.store = store
		h(w, r.WithContext(datastore.AsCaller(r.Context(), acc)), c)
	}
}

// openCaller admits an Open API call (the Bearer token is checked by the
// route): the app's admin, to whom row ACLs do not apply. faas-cli sends
// X-Hydrogen-Env-ID here too: it picks the environment's tables.
func (s *Server) openCaller(h dataHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !versionRule.MatchString(r.PathValue("ver")) {
			writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
			return
		}
		store, err := s.storeFor(r.Header.Get("X-Hydrogen-Env-ID"))
		if err != nil {
			writeDataError(w, err)
			return
		}
		h(w, r, dataCall{userID: SuperAdminUserID, store: store})
	}
}

// writeDataError answers a store error: its status and message, or 500.
func writeDataError(w http.ResponseWriter, err error) {
	status := datastore.StatusOf(err)
	msg := err.Error()
	if status == 500 {
		msg = "The emulator's database failed: " + msg
	}
	writeError(w, status, msg)
}

func writeData(w http.ResponseWriter, status int, v any) {
	b, err := jsjson.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot encode the answer")
		return
	}
	writeJSON(w, status, b)
}

// badQuery is the 400 of a query parameter the data API cannot read:
// "Invalid query: <why>.".
func badQuery(why error) error {
	return &datastore.Error{Status: http.StatusBadRequest, Msg: "Invalid query: " + why.Error() + "."}
}

// pageQuery reads a listing's ?limit= and ?offset= by the data API's
// rules (§2.3), for the data API's find and table list and the
// dashboard's Tables tab alike: whole numbers, a limit of 0 to
// datastore.MaxLimit (def when absent), an offset of 0 or more (0 when
// absent). A bad one is a 400 (a *datastore.Error, for writeDataError)
// with the data API's message, the one the datastore gives too.
func pageQuery(q url.Values, def int) (limit, offset int, err error) {
	if limit, err = queryCount(q, "limit", def); err != nil {
		return 0, 0, err
	}
	if limit > datastore.MaxLimit {
		return 0, 0, &datastore.Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf("Invalid limit %d: at most %d.", limit, datastore.MaxLimit)}
	}
	if offset, err = queryCount(q, "offset", 0); err != nil {
		return 0, 0, err
	}
	return limit, offset, nil
}

// queryCount reads a limit or an offset: a whole number, not negative;
// def when empty or absent. A bad one is a 400 as pageQuery's.
func queryCount(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badQuery(fmt.Errorf("invalid %s %q: an integer is needed", name, v))
	}
	if n < 0 {
		return 0, &datastore.Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf("Invalid %s %d: it cannot be negative.", name, n)}
	}
	return n, nil
}

// queryBool reads a 0/1 flag (the SDK sends 0 and 1; true and false are
// accepted too); empty or absent gives def.
func queryBool(q url.Values, name string, def bool) (bool, error) {
	switch q.Get(name) {
	case "":
		return def, nil
	case "1", "true", "True":
		return true, nil
	case "0", "false", "False":
		return false, nil
	}
	return false, fmt.Errorf("invalid %s %q: use 1 or 0", name, q.Get(name))
}

// pageLink is a listing's next or previous link: the request's own path
// and query with offset moved (§10.18: a relative URL, as Tastypie's).
func pageLink(r *http.Request, offset int) *string {
	q := r.URL.Query()
	q.Set("offset", strconv.Itoa(offset))
	s := r.URL.Path + "?" + q.Encode()
	return &s
}

// listRecords serves find (GET …/record/).
func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, c dataCall) {
	q := r.URL.Query()
	limit, offset, err := pageQuery(q, datastore.DefaultLimit)
	if err != nil {
		writeDataError(w, err)
		return
	}
	withCount, err := queryBool(q, "return_total_count", false)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid query: "+err.Error()+".")
		return
	}
	store := c.store
	// next needs to know whether more follow: count when not asked to,
	// unless the page came back short.
	t, docs, total, err := store.FindRaw(r.Context(), r.PathValue("table"), datastore.Query{
		Where: []byte(q.Get("where")), OrderBy: q.Get("order_by"), Limit: limit, Offset: offset, WithCount: withCount,
	})
	if err != nil {
		writeDataError(w, err)
		return
	}
	out, err := store.PresentJSON(r.Context(), t, docs, datastore.View{Keys: q.Get("keys"), Expand: q.Get("expand")})
	if err != nil {
		writeDataError(w, err)
		return
	}
	meta := listMeta{Limit: limit, Offset: offset}
	if withCount {
		meta.TotalCount = &total
	}
	// Without a count, a full page may have a next page; a short one has
	// none.
	more := len(docs) == limit && limit > 0
	if withCount {
		more = offset+len(docs) < total && limit > 0
	}
	if more {
		meta.Next = pageLink(r, offset+limit)
	}
	if offset > 0 {
		meta.Previous = pageLink(r, max(0, offset-limit))
	}
	// The records are JSON already: the envelope is written around them.
	head, err := jsjson.Marshal(meta)
	if err != nil {
		writeDataError(w, err)
		return
	}
	n := len(head) + 32
	for _, o := range out {
		n += len(o) + 1
	}
	b := make([]byte, 0, n)
	b = append(append(append(b, `{"meta":`...), head...), `,"objects":[`...)
	for i, o := range out {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, o...)
	}
	writeJSON(w, http.StatusOK, append(b, "]}"...))
}

// getRecord serves get (GET …/record/:id/).
func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, c dataCall) {
	q := r.URL.Query()
	t, doc, err := c.store.Get(r.Context(), r.PathValue("table"), r.PathValue("id"))
	if err != nil {
		writeDataError(w, err)
		return
	}
	s.answerRecord(w, r, c, t, doc, datastore.View{Keys: q.Get("keys"), Expand: q.Get("expand")}, http.StatusOK)
}

func (s *Server) answerRecord(w http.ResponseWriter, r *http.Request, c dataCall, t *datastore.Table, doc datastore.Doc, v datastore.View, status int) {
	out, err := c.store.Present(r.Context(), t, []datastore.Doc{doc}, v)
	if err != nil {
		writeDataError(w, err)
		return
	}
	writeData(w, status, out[0])
}

// readDataBody reads a JSON body: an object, or (when listOK) an array of
// objects. It answers 400/413 itself.
func (s *Server) readDataBody(w http.ResponseWriter, r *http.Request, listOK bool) (datastore.Doc, []datastore.Doc, bool) {
	body, ok := s.readLimited(w, r)
	if !ok {
		return nil, nil, false
	}
	body = bytes.TrimSpace(body)
	what := "a JSON object"
	if listOK {
		what = "a JSON object (one record) or an array of objects (createMany)"
	}
	if len(body) > 0 && body[0] == '[' && listOK {
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("The request body must be %s: %v.", what, err))
			return nil, nil, false
		}
		docs := make([]datastore.Doc, len(raws))
		for i, raw := range raws {
			d, err := datastore.ParseObject(raw)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("Item %d of the request body must be a JSON object: %v.", i, err))
				return nil, nil, false
			}
			docs[i] = d
		}
		return nil, docs, true
	}
	d, err := datastore.ParseObject(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("The request body must be %s: %v.", what, err))
		return nil, nil, false
	}
	return d, nil, true
}

// writeContext is a write's context: with enable_trigger=0 it fires no
// table trigger.
func writeContext(r *http.Request, triggers bool) context.Context {
	if triggers {
		return r.Context()
	}
	return datastore.WithoutTriggers(r.Context())
}

// createRecords serves create and createMany (POST …/record/).
func (s *Server) createRecords(w http.ResponseWriter, r *http.Request, c dataCall) {
	q := r.URL.Query()
	triggers, err := queryBool(q, "enable_trigger", true)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid query: "+err.Error()+".")
		return
	}
	ctx := writeContext(r, triggers)
	view := datastore.View{Expand: q.Get("expand")}
	ref := r.PathValue("table")
	if err := c.store.CheckView(ref, view); err != nil {
		writeDataError(w, err)
		return
	}
	one, many, ok := s.readDataBody(w, r, true)
	if !ok {
		return
	}
	if many == nil {
		doc, err := c.store.Create(ctx, ref, one, c.userID)
		if err != nil {
			writeDataError(w, err)
			return
		}
		t, _ := c.store.Lookup(ref)
		s.answerRecord(w, r, c, t, doc, view, http.StatusCreated)
		return
	}
	res, err := c.store.CreateMany(ctx, ref, many, c.userID)
	if err != nil {
		writeDataError(w, err)
		return
	}
	ans := createManyAnswer{TotalCount: len(many), OperationResult: make([]itemAnswer, len(res))}
	for i, it := range res {
		if it.Err != nil {
			ans.OperationResult[i].Error = &itemError{Code: codeItemConflict, ErrMsg: it.Err.Error()}
			continue
		}
		ans.Succeed++
		ans.OperationResult[i].Success = &itemSuccess{ID: it.ID, CreatedAt: it.CreatedAt}
	}
	writeData(w, http.StatusCreated, ans)
}

// updateRecord serves update by id (PUT …/record/:id/): the SDK's
// {"$set","$unset"} body or the Open API's flat one.
func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request, c dataCall) {
	q := r.URL.Query()
	triggers, err := queryBool(q, "enable_trigger", true)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid query: "+err.Error()+".")
		return
	}
	view := datastore.View{Expand: q.Get("expand")}
	ref := r.PathValue("table")
	if err := c.store.CheckView(ref, view); err != nil {
		writeDataError(w, err)
		return
	}
	body, _, ok := s.readDataBody(w, r, false)
	if !ok {
		return
	}
	t, doc, err := c.store.Update(writeContext(r, triggers), ref, r.PathValue("id"), body)
	if err != nil {
		writeDataError(w, err)
		return
	}
	s.answerRecord(w, r, c, t, doc, view, http.StatusOK)
}

// deleteRecord serves delete by id: 204, no body.
func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request, c dataCall) {
	if err := c.store.Delete(r.Context(), r.PathValue("table"), r.PathValue("id")); err != nil {
		writeDataError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// bulkParams are a bulk update's or delete's query: where, limit, offset,
// enable_trigger, return_total_count.
type bulkParams struct {
	where     []byte
	limit     int // -1 when absent
	offset    int
	triggers  bool
	withCount bool
}

// parseBulk reads a bulk operation's query. Its limit has no upper
// bound here (plan decides); a bad parameter is a 400 for writeDataError.
func parseBulk(q url.Values) (bulkParams, error) {
	p := bulkParams{where: []byte(q.Get("where"))}
	var err error
	if p.limit, err = queryCount(q, "limit", -1); err != nil {
		return p, err
	}
	if p.offset, err = queryCount(q, "offset", 0); err != nil {
		return p, err
	}
	if p.triggers, err = queryBool(q, "enable_trigger", true); err != nil {
		return p, badQuery(err)
	}
	if p.withCount, err = queryBool(q, "return_total_count", false); err != nil {
		return p, badQuery(err)
	}
	return p, nil
}

// plan decides how a bulk operation runs (§2.5), given how many records
// match: the page to touch, or async (every match, answered with an
// operation id).
//
// §10.2: a missing limit is 1000 (the SDK sends 20 itself when triggers
// are on). §10.3: with triggers on, a limit over 1000 is refused (400)
// rather than clamped, since the platform runs at most 1000 per request
// with triggers. Without triggers, more than 1000 matches and no limit
// (or one over 1000) goes async, as the docs say; the emulator does the
// work before it answers, so the job reads "success" at once.
func (p bulkParams) plan(matched int) (limit int, async bool, err error) {
	if p.triggers {
		if p.limit > datastore.MaxLimit {
			return 0, false, fmt.Errorf("invalid limit %d: with triggers (enable_trigger=1) at most %d records per request", p.limit, datastore.MaxLimit)
		}
		if p.limit < 0 {
			return datastore.MaxLimit, false, nil
		}
		return p.limit, false, nil
	}
	if matched > datastore.MaxLimit && (p.limit < 0 || p.limit > datastore.MaxLimit) {
		return -1, true, nil
	}
	if p.limit < 0 || p.limit > datastore.MaxLimit {
		return datastore.MaxLimit, false, nil
	}
	return p.limit, false, nil
}

// updateRecords serves the bulk update (PUT …/record/?where=…).
func (s *Server) updateRecords(w http.ResponseWriter, r *http.Request, c dataCall) {
	s.bulk(w, r, c, "update")
}

// deleteRecords serves the bulk delete (DELETE …/record/?where=…).
func (s *Server) deleteRecords(w http.ResponseWriter, r *http.Request, c dataCall) {
	s.bulk(w, r, c, "delete")
}

func (s *Server) bulk(w http.ResponseWriter, r *http.Request, c dataCall, op string) {
	p, err := parseBulk(r.URL.Query())
	if err != nil {
		writeDataError(w, err)
		return
	}
	var body datastore.Doc
	if op == "update" {
		var ok bool
		if body, _, ok = s.readDataBody(w, r, false); !ok {
			return
		}
	}
	ref := r.PathValue("table")
	store := c.store
	// Every match counts, rows the caller may not write included (§2.4),
	// so the super-admin's count.
	matched, err := store.Count(datastore.AsCaller(r.Context(), nil), ref, p.where)
	if err != nil {
		writeDataError(w, err)
		return
	}
	limit, async, err := p.plan(matched)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid query: "+err.Error()+".")
		return
	}
	b := datastore.Bulk{Where: p.where, Limit: limit, Offset: p.offset}
	ctx := writeContext(r, p.triggers && !async) // async runs fire no triggers (§2.5)
	var res *datastore.BulkResult
	if op == "update" {
		res, err = store.UpdateWhere(ctx, ref, b, body)
	} else {
		res, err = store.DeleteWhere(ctx, ref, b)
	}
	if err != nil {
		writeDataError(w, err)
		return
	}
	if async {
		t, _ := store.Lookup(ref)
		now := time.Now().Unix()
		job := bulkJob{Operation: op, Status: "success", CreatedAt: now, UpdatedAt: now, store: store}
		if t != nil {
			job.SchemaID, job.SchemaName = t.ID, t.Name
		}
		matchedN, done := res.Matched, res.Succeed
		if op == "update" {
			job.MatchedCount, job.ModifiedCount = &matchedN, &done
		} else {
			job.DeletedCount = &done
		}
		writeData(w, http.StatusOK, asyncAnswer{Status: "ok", OperationID: s.data.jobs.add(job)})
		return
	}
	ans := bulkAnswer{Succeed: res.Succeed, Offset: p.offset, Limit: limit}
	if p.withCount {
		ans.TotalCount = &res.Matched
	}
	if p.offset+limit < res.Matched {
		ans.Next = pageLink(r, p.offset+limit)
	}
	if op == "update" {
		ans.OperationResult = make([]itemAnswer, len(res.Results))
		for i, it := range res.Results {
			if it.Err != nil {
				ans.OperationResult[i].Error = &itemError{Code: codeItemFailed, ErrMsg: it.Err.Error()}
			} else {
				ans.OperationResult[i].Success = &itemSuccess{ID: it.ID, UpdatedAt: it.UpdatedAt}
			}
		}
	}
	writeData(w, http.StatusOK, ans)
}

// getBulkJob serves getAsyncJobResult.
func (s *Server) getBulkJob(w http.ResponseWriter, r *http.Request, c dataCall) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	job, ok := s.data.jobs.get(id)
	// A job of another environment is not there for this one.
	if err != nil || !ok || job.store != c.store {
		writeError(w, http.StatusNotFound, "Bulk operation "+r.PathValue("id")+" does not exist.")
		return
	}
	writeData(w, http.StatusOK, job)
}

// serverTime serves getServerDate, in the emulator's timezone, UTC.
func (s *Server) serverTime(w http.ResponseWriter, r *http.Request) {
	if !versionRule.MatchString(r.PathValue("ver")) {
		writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
		return
	}
	writeData(w, http.StatusOK, map[string]string{"time": time.Now().UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"})
}

// listTables serves GET /oserve/v1.8/table/ (?name= exact, limit 20 by
// default, at most 1000).
func (s *Server) listTables(w http.ResponseWriter, r *http.Request, c dataCall) {
	q := r.URL.Query()
	limit, offset, err := pageQuery(q, datastore.DefaultLimit)
	if err != nil {
		writeDataError(w, err)
		return
	}
	var all []tableObject
	for _, t := range c.store.Tables() {
		if name := q.Get("name"); name != "" && t.Name != name {
			continue
		}
		all = append(all, tableAnswer(t))
	}
	total := len(all)
	page := all[min(offset, total):min(offset+limit, total)]
	meta := listMeta{Limit: limit, Offset: offset, TotalCount: &total}
	if offset+limit < total {
		meta.Next = pageLink(r, offset+limit)
	}
	if offset > 0 {
		meta.Previous = pageLink(r, max(0, offset-limit))
	}
	writeData(w, http.StatusOK, listAnswer{Meta: meta, Objects: append([]tableObject{}, page...)})
}

func (s *Server) getTable(w http.ResponseWriter, r *http.Request, c dataCall) {
	t, ok := c.store.Lookup(r.PathValue("table"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Table %q does not exist.", r.PathValue("table")))
		return
	}
	writeData(w, http.StatusOK, tableAnswer(t))
}

func (s *Server) readTableSpec(w http.ResponseWriter, r *http.Request) (datastore.TableSpec, bool) {
	var spec datastore.TableSpec
	body, ok := s.readLimited(w, r)
	if !ok {
		return spec, false
	}
	if err := json.Unmarshal(body, &spec); err != nil {
		writeError(w, http.StatusBadRequest, "The request body must be a table object {name, schema: {fields}, row_read_perm, row_write_perm, write_perm}: "+err.Error()+".")
		return spec, false
	}
	return spec, true
}

// createTable serves POST /oserve/v1.8/table/. A table made here is
// declared: its types are checked, and unknown tables become 404. An
// indexes key is tolerated and ignored: schema-import sends the file's
// table as it is, then adds each index through the index API (§8.4).
func (s *Server) createTable(w http.ResponseWriter, r *http.Request, c dataCall) {
	spec, ok := s.readTableSpec(w, r)
	if !ok {
		return
	}
	spec.Indexes = nil
	if spec.Schema == nil {
		writeError(w, http.StatusBadRequest, "Invalid table: schema.fields is required.")
		return
	}
	t, err := c.store.CreateTable(r.Context(), spec, true)
	if err != nil {
		writeDataError(w, err)
		return
	}
	writeData(w, http.StatusCreated, tableAnswer(t))
}

func (s *Server) updateTable(w http.ResponseWriter, r *http.Request, c dataCall) {
	spec, ok := s.readTableSpec(w, r)
	if !ok {
		return
	}
	t, err := c.store.UpdateTable(r.Context(), r.PathValue("table"), spec)
	if err != nil {
		writeDataError(w, err)
		return
	}
	writeData(w, http.StatusOK, tableAnswer(t))
}

func (s *Server) deleteTable(w http.ResponseWriter, r *http.Request, c dataCall) {
	if err := c.store.DeleteTable(r.Context(), r.PathValue("table")); err != nil {
		writeDataError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func indexAnswer(t *datastore.Table) listAnswer {
	objs := []indexObject{}
	for _, ix := range t.Indexes {
		objs = append(objs, indexObject{Fields: ix, Index: datastore.IndexName(ix)})
	}
	n := len(objs)
	return listAnswer{Meta: listMeta{Limit: n, TotalCount: &n}, Objects: objs}
}

func (s *Server) listIndexes(w http.ResponseWriter, r *http.Request, c dataCall) {
	t, ok := c.store.Lookup(r.PathValue("table"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Table %q does not exist.", r.PathValue("table")))
		return
	}
	writeData(w, http.StatusOK, indexAnswer(t))
}

// createIndex answers 201 with every index of the table (§8.2).
func (s *Server) createIndex(w http.ResponseWriter, r *http.Request, c dataCall) {
	var body struct{ Fields []string }
	raw, ok := s.readLimited(w, r)
	if !ok {
		return
	}
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Fields) == 0 {
		writeError(w, http.StatusBadRequest, `The request body must be {"fields": ["name", ...]}.`)
		return
	}
	t, err := c.store.AddIndex(r.Context(), r.PathValue("table"), body.Fields)
	if err != nil {
		writeDataError(w, err)
		return
	}
	writeData(w, http.StatusCreated, indexAnswer(t).Objects)
}

func (s *Server) deleteIndex(w http.ResponseWriter, r *http.Request, c dataCall) {
	if err := c.store.DropIndex(r.Context(), r.PathValue("table"), r.PathValue("index")); err != nil {
		writeDataError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
