package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/mincloud-go/baas/internal/fnroot"
)

// The Open API's function management: list, create, read, update and
// delete under /oserve/v1.3/cloud-function/.

func (f *fnRecord) object() fnObject {
	return fnObject{Name: f.name, Code: f.code, Remark: f.remark, CreatedAt: f.created.Unix(), UpdatedAt: f.updated.Unix()}
}

// listFunctions serves GET /oserve/v1.3/cloud-function/, sorted by name.
func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	all := make([]fnObject, 0, len(s.functions))
	for _, f := range s.functions {
		all = append(all, f.object())
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, k int) bool { return all[i].Name < all[k].Name })
	meta, from, to, ok := s.paginate(r, len(all))
	if !ok {
		writeError(w, http.StatusBadRequest, "limit and offset must be non-negative integers.")
		return
	}
	writeObject(w, http.StatusOK, page[fnObject]{Meta: meta, Objects: all[from:to]})
}

// createFunction serves POST /oserve/v1.3/cloud-function/.
func (s *Server) createFunction(w http.ResponseWriter, r *http.Request) {
	var c fnChange
	if !s.readObject(w, r, &c, false) {
		return
	}
	if c.Name == nil {
		writeError(w, http.StatusBadRequest, "name is required.")
		return
	}
	// The one name rule of internal/fnroot, whose message says why.
	if err := fnroot.CheckName(*c.Name); err != nil {
		writeError(w, http.StatusBadRequest, "The "+err.Error()+".")
		return
	}
	now := time.Now()
	f := &fnRecord{name: *c.Name, created: now, updated: now}
	if c.Code != nil {
		f.code, f.js = *c.Code, s.codeFunction(f.name, *c.Code)
	}
	if c.Remark != nil {
		f.remark = *c.Remark
	}
	s.mu.Lock()
	_, exists := s.functions[f.name]
	if !exists {
		s.functions[f.name] = f
	}
	obj := f.object()
	s.mu.Unlock()
	if exists {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Cloud function %q already exists.", f.name))
		return
	}
	writeObject(w, http.StatusCreated, obj)
}

// withFunction calls do, when not nil, with the function's record under
// the lock, and reports whether the function exists: the one lookup of
// reading, updating, invoking and the history.
func (s *Server) withFunction(name string, do func(f *fnRecord)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.functions[name]
	if ok && do != nil {
		do(f)
	}
	return ok
}

// answerFunction answers the function as the API shows it after change
// (nil to read it), or 404.
func (s *Server) answerFunction(w http.ResponseWriter, name string, status int, change func(f *fnRecord)) {
	var obj fnObject
	if !s.withFunction(name, func(f *fnRecord) {
		if change != nil {
			change(f)
		}
		obj = f.object()
	}) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cloud function %q not found.", name))
		return
	}
	writeObject(w, status, obj)
}

// getFunction serves GET /oserve/v1.3/cloud-function/{name}/.
func (s *Server) getFunction(w http.ResponseWriter, r *http.Request) {
	s.answerFunction(w, r.PathValue("name"), http.StatusOK, nil)
}

// updateFunction serves PATCH /oserve/v1.3/cloud-function/{name}/.
func (s *Server) updateFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var c fnChange
	if !s.readObject(w, r, &c, false) {
		return
	}
	var js *jsFunction
	if c.Code != nil {
		js = s.codeFunction(name, *c.Code) // it starts nothing until called
	}
	s.answerFunction(w, name, http.StatusAccepted, func(f *fnRecord) {
		if c.Code != nil {
			f.code, f.h, f.js = *c.Code, nil, js // new code: no longer the Go handler
		}
		if c.Remark != nil {
			f.remark = *c.Remark
		}
		f.updated = time.Now()
	})
}

// deleteFunction serves DELETE /oserve/v1.3/cloud-function/{name}/.
func (s *Server) deleteFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.removeFunction(name) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cloud function %q not found.", name))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// removeFunction forgets the function name and removes the code written
// for it (a source given over the Open API, a folder's bundles), however
// it was registered: the one way a function goes, for the Open API's
// delete and the folder watcher alike. It reports whether name was known.
func (s *Server) removeFunction(name string) bool {
	s.mu.Lock()
	_, ok := s.functions[name]
	delete(s.functions, name)
	s.mu.Unlock()
	s.dropSource(name)
	s.dropBundles(name)
	return ok
}
