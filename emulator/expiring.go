package emulator

import "time"

// maxLiveKeys caps each kind of key the emulator hands out (access tokens,
// OAuth sessions and codes, user tokens): past it the oldest goes first, so
// that a client minting keys in a loop cannot grow the process.
const maxLiveKeys = 10_000

// expiring is a set of keys that expire after one fixed lifetime, so that
// issue order is expiry order: expired keys are dropped from the front as
// new ones come. The caller guards it.
type expiring[V any] struct {
	m     map[string]expiringEntry[V]
	order []string // keys in issue order; some may be gone from m
	head  int

	// now is the clock expiry is judged by; nil is time.Now. Tests set it
	// so that a lifetime passes without sleeping through it.
	now func() time.Time
}

func (e *expiring[V]) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// add adds key for life from now, as put does.
func (e *expiring[V]) add(key string, v V, life time.Duration) {
	e.put(key, v, e.clock().Add(life))
}

type expiringEntry[V any] struct {
	v   V
	exp time.Time
}

// put adds key until exp, dropping expired keys and, past maxLiveKeys, the
// oldest.
func (e *expiring[V]) put(key string, v V, exp time.Time) {
	if e.m == nil {
		e.m = map[string]expiringEntry[V]{}
	}
	now := e.clock()
	for e.head < len(e.order) {
		k := e.order[e.head]
		ent, ok := e.m[k]
		if ok && now.Before(ent.exp) && len(e.m) < maxLiveKeys {
			break
		}
		delete(e.m, k)
		e.order[e.head] = ""
		e.head++
	}
	e.m[key] = expiringEntry[V]{v, exp}
	e.order = append(e.order, key)
	// Keys removed out of order (spent, revoked) leave holes: compact once
	// they outnumber the live ones, so order stays within twice the map.
	if live := len(e.order) - e.head; e.head*2 >= len(e.order) || live > 2*len(e.m)+16 {
		n := 0
		for _, k := range e.order[e.head:] {
			if _, ok := e.m[k]; ok {
				e.order[n] = k
				n++
			}
		}
		clear(e.order[n:])
		e.order, e.head = e.order[:n], 0
	}
}

// get returns key's value if it is there and unexpired.
func (e *expiring[V]) get(key string) (V, bool) {
	ent, ok := e.m[key]
	if !ok || !e.clock().Before(ent.exp) {
		var zero V
		return zero, false
	}
	return ent.v, true
}

// take is get that also removes key: a single-use key.
func (e *expiring[V]) take(key string) (V, bool) {
	v, ok := e.get(key)
	delete(e.m, key)
	return v, ok
}

func (e *expiring[V]) remove(key string) { delete(e.m, key) }

func (e *expiring[V]) reset() { *e = expiring[V]{now: e.now} }

func (e *expiring[V]) len() int { return len(e.m) }
