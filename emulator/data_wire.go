package emulator

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/mincloud-go/baas/emulator/internal/datastore"
)

// The data API's wire types, the emulator's own (§2.3, §2.4, §8.1).

// listMeta is a record or table listing's meta. TotalCount is present
// only when asked for (return_total_count=1, §2.3).
type listMeta struct {
	Limit      int     `json:"limit"`
	Offset     int     `json:"offset"`
	Next       *string `json:"next"`
	Previous   *string `json:"previous"`
	TotalCount *int    `json:"total_count,omitempty"`
}

type listAnswer struct {
	Meta    listMeta `json:"meta"`
	Objects any      `json:"objects"`
}

// createManyAnswer is createMany's 201 answer.
type createManyAnswer struct {
	Succeed         int          `json:"succeed"`
	TotalCount      int          `json:"total_count"`
	OperationResult []itemAnswer `json:"operation_result"`
}

// itemAnswer is one entry of operation_result: success or error.
type itemAnswer struct {
	Success *itemSuccess `json:"success,omitempty"`
	Error   *itemError   `json:"error,omitempty"`
}

type itemSuccess struct {
	ID        string `json:"id"`
	CreatedAt int64  `json:"created_at,omitempty"`
	UpdatedAt int64  `json:"updated_at,omitempty"`
}

type itemError struct {
	Code   int    `json:"code"`
	ErrMsg string `json:"err_msg"`
}

// bulkAnswer is a synchronous bulk update's or delete's answer.
type bulkAnswer struct {
	Succeed         int          `json:"succeed"`
	TotalCount      *int         `json:"total_count,omitempty"`
	Offset          int          `json:"offset"`
	Limit           int          `json:"limit"`
	Next            *string      `json:"next"`
	OperationResult []itemAnswer `json:"operation_result,omitempty"`
}

// asyncAnswer is an asynchronous bulk operation's answer.
type asyncAnswer struct {
	Status      string `json:"status"`
	OperationID int64  `json:"operation_id"`
}

// bulkJob is an asynchronous bulk operation as getAsyncJobResult reads it.
type bulkJob struct {
	ID            int64  `json:"id"`
	SchemaID      int64  `json:"schema_id"`
	SchemaName    string `json:"schema_name"`
	Operation     string `json:"operation"`
	Status        string `json:"status"`
	CreatedAt     int64  `json:"created_at"`
	UpdatedAt     int64  `json:"updated_at"`
	MatchedCount  *int   `json:"matched_count,omitempty"`
	ModifiedCount *int   `json:"modified_count,omitempty"`
	DeletedCount  *int   `json:"deleted_count,omitempty"`

	store *datastore.Store // the environment's tables it ran on: read only from there
}

// maxBulkJobs bounds the async operations remembered.
const maxBulkJobs = 1000

// bulkJobs remembers the most recent async operations.
type bulkJobs struct {
	mu    sync.Mutex
	next  int64
	m     map[int64]bulkJob
	order []int64
}

func (b *bulkJobs) add(j bulkJob) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[int64]bulkJob{}
	}
	b.next++
	j.ID = b.next
	b.m[j.ID] = j
	b.order = append(b.order, j.ID)
	if len(b.order) > maxBulkJobs {
		delete(b.m, b.order[0])
		b.order = b.order[1:]
	}
	return j.ID
}

func (b *bulkJobs) get(id int64) (bulkJob, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, ok := b.m[id]
	return j, ok
}

// tableObject is a table as the table API answers it (§8.1).
type tableObject struct {
	ID              int64          `json:"id"`
	Name            string         `json:"name"`
	Description     string         `json:"description"`
	ProtectedFields []string       `json:"protected_fields"`
	Schema          tableFields    `json:"schema"`
	WritePerm       []string       `json:"write_perm"`
	DefaultRowPerm  defaultRowPerm `json:"default_row_perm"`
	CreatedAt       int64          `json:"created_at"`
	UpdatedAt       int64          `json:"updated_at"`
}

type tableFields struct {
	Fields []fieldObject `json:"fields"`
}

type defaultRowPerm struct {
	Read  []string `json:"_read_perm"`
	Write []string `json:"_write_perm"`
}

type fieldObject struct {
	Name           string           `json:"name"`
	Type           string           `json:"type"`
	Description    string           `json:"description"`
	Items          *fieldItems      `json:"items,omitempty"`
	SchemaID       string           `json:"schema_id,omitempty"`
	Constraints    *fieldConstraint `json:"constraints,omitempty"`
	Default        json.RawMessage  `json:"default,omitempty"`
	Format         string           `json:"format,omitempty"`
	CoordinateType string           `json:"coordinate_type,omitempty"`
	ACL            json.RawMessage  `json:"acl,omitempty"`
}

type fieldItems struct {
	Type string `json:"type"`
}

type fieldConstraint struct {
	Required bool `json:"required"`
}

// indexObject is a unique index (§8.2).
type indexObject struct {
	Fields []string `json:"fields"`
	Index  string   `json:"index"`
}

// tableAnswer renders a table. Every answer (create, detail, list) lists
// the built-in fields first (§10.26: the create answer does; the others'
// examples leave them out, and one shape is easier to use).
func tableAnswer(t *datastore.Table) tableObject {
	fields := []fieldObject{
		{Name: "id", Type: "id", Description: "id"},
		{Name: "created_by", Type: "integer", Description: "created_by"},
		{Name: "created_at", Type: "integer", Description: "created_at"},
		{Name: "updated_at", Type: "integer", Description: "updated_at"},
	}
	for _, f := range t.Fields {
		fo := fieldObject{Name: f.Name, Type: f.Type, Description: f.Description, Default: f.Default,
			Format: f.Format, CoordinateType: f.CoordinateType, ACL: f.ACL}
		if fo.Description == "" {
			fo.Description = f.Name
		}
		if f.Items != nil {
			fo.Items = &fieldItems{Type: f.Items.Type}
		}
		if f.Type == "reference" {
			fo.SchemaID = itoa(f.TargetID)
		}
		if f.Required {
			fo.Constraints = &fieldConstraint{Required: true}
		}
		fields = append(fields, fo)
	}
	return tableObject{ID: t.ID, Name: t.Name, Description: t.Description, Schema: tableFields{fields},
		WritePerm: t.WritePerm, DefaultRowPerm: defaultRowPerm{t.RowReadPerm, t.RowWritePerm},
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
