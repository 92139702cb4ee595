package baas

import (
	"time"

	"github.com/mincloud-go/baas/internal/clientinfo"
)

// ModuleInfo is for this module's own packages (package manage and the
// mincloud command read the client's host, deadlines and kind through
// it). Its argument's type is internal to the module, so no other code can
// call it; it is no part of the API.
func (c *Client) ModuleInfo(clientinfo.Key) clientinfo.Info {
	info := clientinfo.Info{
		Host:         c.host,
		SyncTimeout:  c.cfg.syncTimeout,
		AsyncTimeout: c.cfg.asyncTimeout,
		OpenAPI:      c.tokens != nil,
	}
	if ts := c.tokens; ts != nil {
		info.SetTokenClock = func(now func() time.Time) {
			ts.mu.Lock()
			ts.now = now
			ts.mu.Unlock()
		}
	}
	return info
}
