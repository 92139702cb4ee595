package nodetest

import (
	"os"
	"path/filepath"
	"testing"
)

// The official JS SDK (npm package minapp-sdk) the tests drive, and the
// regenerator-runtime its mini-program build expects WeChat to provide;
// .ci/run installs both into the user cache.
const (
	MinappSDKVersion          = "3.23.6"
	RegeneratorRuntimeVersion = "0.14.1"
)

// MinappSDK returns the folder of the official JS SDK's package
// (node_modules/minapp-sdk, with lib/web.js, the browser build, and
// lib/index.js, the mini-program build); regenerator-runtime is its
// sibling. It is looked for under $MINCLOUD_MINAPP_SDK (the package's
// folder), else where .ci/run puts it (npm install --prefix
// <user cache>/mincloud-test/minapp-sdk-VERSION). Absent, tb fails when
// the CI variable is set and is skipped otherwise.
func MinappSDK(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("MINCLOUD_MINAPP_SDK")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			tb.Fatalf("no user cache directory for the official JS SDK: %v", err)
		}
		dir = filepath.Join(cache, "mincloud-test", "minapp-sdk-"+MinappSDKVersion, "node_modules", "minapp-sdk")
	}
	for _, f := range []string{filepath.Join(dir, "lib", "web.js"), filepath.Join(dir, "lib", "index.js"), filepath.Join(filepath.Dir(dir), "regenerator-runtime", "runtime.js")} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				tb.Fatalf("the official JS SDK is needed and CI is set: %v (.ci/run installs minapp-sdk@%s regenerator-runtime@%s)", err, MinappSDKVersion, RegeneratorRuntimeVersion)
			}
			tb.Skipf("the official JS SDK is not installed (%v): npm install --prefix %s minapp-sdk@%s regenerator-runtime@%s",
				err, filepath.Dir(filepath.Dir(dir)), MinappSDKVersion, RegeneratorRuntimeVersion)
		}
	}
	return dir
}
