package baas

import (
	"time"

	"github.com/mincloud-go/baas/internal/hooks"
)

// What package manage and the mincloud command read through
// internal/hooks instead of exported methods no user needs.
func init() {
	hooks.Timeouts = func(client any) (time.Duration, time.Duration) {
		c := client.(*Client)
		return c.cfg.syncTimeout, c.cfg.asyncTimeout
	}
	hooks.OpenAPI = func(client any) bool { return client.(*Client).tokens != nil }
	hooks.Host = func(client any) string { return client.(*Client).host }
	hooks.BadParameter = func(detail string) error { return newError(CodeBadParameter, detail, nil) }
}
