package nodetest

import (
	"os"
	"path/filepath"
	"testing"
)

// MinappSDKVersion is the release of the official JS SDK (npm package
// minapp-sdk) the tests drive; .ci/run installs it into the user cache.
const MinappSDKVersion = "3.23.6"

// MinappSDKWeb returns the path of the official JS SDK's browser build,
// lib/web.js: under $MINCLOUD_MINAPP_SDK (the package's folder), else
// where .ci/run puts it (npm install --prefix
// <user cache>/mincloud-test/minapp-sdk-VERSION). Absent, tb fails when
// the CI variable is set and is skipped otherwise.
func MinappSDKWeb(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("MINCLOUD_MINAPP_SDK")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			tb.Fatalf("no user cache directory for the official JS SDK: %v", err)
		}
		dir = filepath.Join(cache, "mincloud-test", "minapp-sdk-"+MinappSDKVersion, "node_modules", "minapp-sdk")
	}
	web := filepath.Join(dir, "lib", "web.js")
	if _, err := os.Stat(web); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("the official JS SDK is needed and CI is set: %v (.ci/run installs minapp-sdk@%s)", err, MinappSDKVersion)
		}
		tb.Skipf("the official JS SDK is not installed (%v): npm install --prefix %s minapp-sdk@%s",
			err, filepath.Dir(filepath.Dir(dir)), MinappSDKVersion)
	}
	return web
}
