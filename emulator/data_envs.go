package emulator

import (
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/mincloud-go/baas/emulator/internal/datastore"
)

// MaxDataEnvs is how many environments (X-Hydrogen-Env-ID values) get
// tables of their own, besides the calls that name none; a further one
// is answered 400. Each is a database of its own, so the cap bounds the
// emulator's memory (and its files, with [WithDataFile]).
const MaxDataEnvs = 16

// MaxDataTables is how many tables an environment's database (or the
// default one) may have for a write to make one more, without a schema:
// anyone with the client id may write, so a write naming a new table past
// it is answered 400. Tables from a schema or the Open API are not capped.
const MaxDataTables = datastore.MaxAutoTables

// envIDRule is an environment id the emulator accepts: it becomes part
// of a file name with [WithDataFile].
var envIDRule = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// dataEnvs are the environments' databases: on the platform each test
// environment has its own data, so a record written in env A is not seen
// from env B, nor from calls without an env (the default store).
type dataEnvs struct {
	mu     sync.Mutex
	stores map[string]*envStore
	closed bool // closeEnvs ran: an environment opened after is closed again
}

// envStore is one environment's database, opened once by whichever call
// comes first, outside dataEnvs.mu: opening one (SQLite, the schemas)
// does not hold up the calls of the others.
type envStore struct {
	open func() (*datastore.Store, error) // sync.OnceValues
	st   *datastore.Store                 // set under dataEnvs.mu once open
}

// envDataFile is where env id keeps its tables when the default tables
// are in the file path: beside it, path + ".env-" + id.
func envDataFile(path, id string) string {
	if path == "" {
		return ""
	}
	return path + ".env-" + id
}

// storeFor is the database of environment envID ("" for the default),
// opened at its first use with the schemas loaded at start.
func (s *Server) storeFor(envID string) (*datastore.Store, error) {
	if envID == "" {
		return s.data.store, nil
	}
	if !envIDRule.MatchString(envID) {
		return nil, &datastore.Error{Status: 400, Msg: fmt.Sprintf("Invalid X-Hydrogen-Env-ID %q: an environment id has 1 to 64 letters, digits, _ and -.", envID)}
	}
	e := &s.data.envs
	e.mu.Lock()
	es, ok := e.stores[envID]
	if !ok {
		if len(e.stores) >= MaxDataEnvs {
			e.mu.Unlock()
			return nil, &datastore.Error{Status: 400, Msg: fmt.Sprintf("Too many environments: the emulator keeps the tables of at most %d X-Hydrogen-Env-ID values; restart it to start afresh.", MaxDataEnvs)}
		}
		es = &envStore{}
		es.open = sync.OnceValues(func() (*datastore.Store, error) {
			st, err := s.openStore(envDataFile(s.cfg.data.file, envID), envID)
			e.mu.Lock()
			defer e.mu.Unlock()
			if err != nil {
				if e.stores[envID] == es {
					delete(e.stores, envID) // a later call tries again
				}
				return nil, fmt.Errorf("environment %s: %w", envID, err)
			}
			if e.closed {
				st.Close()
				return nil, fmt.Errorf("environment %s: the emulator is closed", envID)
			}
			es.st = st
			return st, nil
		})
		if e.stores == nil {
			e.stores = map[string]*envStore{}
		}
		e.stores[envID] = es
	}
	e.mu.Unlock()
	return es.open()
}

// closeEnvs closes the environments' databases.
func (e *dataEnvs) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for id, es := range e.stores {
		if es.st != nil {
			es.st.Close()
		}
		delete(e.stores, id)
	}
}

// opened is environment id's database if a call has opened it, without
// opening one (the dashboard only reads).
func (e *dataEnvs) opened(id string) (*datastore.Store, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	es, ok := e.stores[id]
	if !ok || es.st == nil {
		return nil, false
	}
	return es.st, true
}

// ids are the environments opened so far, sorted.
func (e *dataEnvs) ids() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.stores))
	for id, es := range e.stores {
		if es.st != nil {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
