package main

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mincloud-go/baas"
)

// TestUsageErrors: exit 2, what was wrong and how to get help, nothing
// on stdout and nothing sent (no host is set: a call would fail with 1).
func TestUsageErrors(t *testing.T) {
	c := connected(t)
	for _, tc := range []struct {
		args []string
		says string
		help string
	}{
		{[]string{"invoke"}, "function name is required", "mincloud invoke"},
		{[]string{"invoke", "echo", `{"a":bad}`}, "params are not valid JSON: invalid character 'b' looking for beginning of value at offset 6", "mincloud invoke"},
		{[]string{"invoke", "echo", "{}", "extra"}, `unexpected argument "extra"`, "mincloud invoke"},
		{[]string{"invoke", "a/b"}, `function name "a/b" is not valid: it may not hold / or \`, "mincloud invoke"},
		{[]string{"new", ".hidden"}, `function name ".hidden" is not valid: it may not start with a dot (the functions root ignores dot files)`, "mincloud new"},
		{[]string{"new", "node_modules"}, `function name "node_modules" is not valid: node_modules holds the functions' packages`, "mincloud new"},
		{[]string{"deploy", "tab\there"}, `function name "tab\there" is not valid: it holds the control character 0x09 at byte 3`, "mincloud deploy"},
		{[]string{"new", "x", "--host", "http://127.0.0.1:1"}, "--host does not apply to mincloud new", "mincloud new"},
		{[]string{"logout", "--root", "elsewhere"}, "--root does not apply to mincloud logout", "mincloud logout"},
		{[]string{"serve", "--env", "e1"}, "--env does not apply to mincloud serve", "mincloud serve"},
		{[]string{"serve", "--root", "a", "--functions", "b"}, "--root a and --functions b name different folders: give one of them", "mincloud serve"},
		{[]string{"new"}, "function name is required", "mincloud new"},
		{[]string{"pull"}, "function name is required", "mincloud pull"},
		{[]string{"delete"}, "function name is required", "mincloud delete"},
		{[]string{"jobs"}, "function name is required", "mincloud jobs"},
		{[]string{"jobs", "echo", "--limit", "0"}, "--limit must be at least 1, not 0", "mincloud jobs"},
		{[]string{"jobs", "echo", "--limit", "many"}, `invalid argument "many" for "--limit" flag: strconv.ParseInt: parsing "many": invalid syntax`, "mincloud jobs"},
		{[]string{"logs", "echo"}, "job id is required (or --follow, to follow the new jobs)", "mincloud logs"},
		{[]string{"logs", "echo", "x1"}, `job id must be a positive whole number, not "x1"`, "mincloud logs"},
		{[]string{"list", "extra"}, `unexpected argument "extra"`, "mincloud list"},
		{[]string{"list", "--bogus"}, "unknown flag: --bogus", "mincloud list"},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "mincloud"`, "mincloud"},
		// Only close names are suggested: a typo or a swap away, or a
		// name's first three letters or more.
		{[]string{"lsit"}, `unknown command "lsit" for "mincloud" (did you mean list?)`, "mincloud"},
		{[]string{"servr"}, `unknown command "servr" for "mincloud" (did you mean serve?)`, "mincloud"},
		{[]string{"log"}, `unknown command "log" for "mincloud" (did you mean login, logout or logs?)`, "mincloud"},
		{[]string{"x"}, `unknown command "x" for "mincloud"`, "mincloud"},
		{[]string{"lo"}, `unknown command "lo" for "mincloud"`, "mincloud"},
		// serve's values are the emulator's to check: its reason, under
		// the flag's name.
		{[]string{"serve", "--max-jobs", "0"}, "--max-jobs: at least 1 job must be able to run at once, not 0", "mincloud serve"},
		{[]string{"serve", "--sync-timeout", "-1s"}, "--sync-timeout: the sync timeout must be positive, not -1s", "mincloud serve"},
		{[]string{"serve", "--max-queued-bytes", "64MB"}, `invalid argument "64MB" for "--max-queued-bytes" flag: MB is not accepted: the units are binary, KiB, MiB or GiB (64MiB is 67108864 bytes)`, "mincloud serve"},
		{[]string{"serve", "--max-job-record-bytes", "100000000000000GiB"}, `invalid argument "100000000000000GiB" for "--max-job-record-bytes" flag: too large: at most 8589934591GiB (9223372036854775807 bytes, 8 EiB)`, "mincloud serve"},
		{[]string{"serve", "--max-job-record-bytes", "1.5GiB"}, `invalid argument "1.5GiB" for "--max-job-record-bytes" flag: a whole number of bytes, with or without a unit: 67108864, 65536KiB or 64MiB`, "mincloud serve"},
	} {
		r := c.run(tc.args...)
		assert.Equal(t, 2, r.code, "%q: %s", tc.args, r)
		assert.Equal(t, "error: "+tc.says+"\nRun '"+tc.help+" --help' for usage.\n", r.stderr, "%q", tc.args)
		assert.Empty(t, r.stdout, "%q", tc.args)
	}
}

func TestHelpVersionAndCompletion(t *testing.T) {
	c := newCLI(t)
	r := c.run("--help")
	require.Equal(t, 0, r.code, r)
	for _, cmd := range []string{"login", "logout", "new", "deploy", "pull", "list", "delete", "invoke", "jobs", "logs", "serve", "completion"} {
		assert.Regexp(t, `(?m)^  `+cmd+`\s`, r.stdout)
	}
	assert.Contains(t, r.stdout, "Exit codes:\n  0  success\n  1  the call failed")
	assert.Contains(t, r.stdout, "3  the function ran and failed")

	r = c.run("help", "invoke")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "mincloud invoke NAME [JSON] [flags]")
	assert.Contains(t, r.stdout, "--async")
	assert.Contains(t, r.stdout, "--json", "the global flags show on every command")

	r = c.run("deploy", "--help")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "-m, --remark string")

	r = c.run("--version")
	require.Equal(t, 0, r.code, r)
	assert.Equal(t, "mincloud version "+baas.Version+"\n", r.stdout, "the SDK's version, as its User-Agent sends it")

	// Each command's help lists the global flags it uses, and no others.
	for cmd, want := range map[string][]string{
		"invoke": {"--json", "--host", "--client-id", "--client-secret", "--env"},
		"new":    {"--root", "--json"},
		"deploy": {"--root", "--json", "--host", "--client-id", "--client-secret", "--env"},
		"logout": {"--json"},
		"serve":  {"--root", "--addr", "--functions", "--client-id", "--client-secret"},
	} {
		r = c.run(cmd, "--help")
		require.Equal(t, 0, r.code, r)
		for _, flag := range []string{"--root", "--json", "--host", "--client-id", "--client-secret", "--env"} {
			listed := regexp.MustCompile(`(?m)^\s+(-\w, )?` + flag + ` `)
			if slices.Contains(want, flag) {
				assert.Regexp(t, listed, r.stdout, "%s uses %s", cmd, flag)
			} else {
				assert.NotRegexp(t, listed, r.stdout, "%s does not use %s", cmd, flag)
			}
		}
	}

	r = c.run("completion", "bash")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "__start_mincloud")
}
