package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUsageErrors: exit 2, what was wrong and how to get help, nothing
// on stdout and nothing sent (no host is set: a call would fail with 1).
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	c := connected(t)
	for _, tc := range []struct {
		args []string
		says string
		help string
	}{
		{[]string{"invoke"}, "function name is required", "mincloud invoke"},
		{[]string{"invoke", "echo", `{"a":bad}`}, "params are not valid JSON: invalid character 'b' looking for beginning of value at offset 6", "mincloud invoke"},
		{[]string{"invoke", "echo", "{}", "extra"}, `unexpected argument "extra"`, "mincloud invoke"},
		{[]string{"invoke", "a/b"}, `function name "a/b" is not valid: it may not hold / or \, nor start with a dot`, "mincloud invoke"},
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
		{[]string{"serve", "--max-jobs", "0"}, "--max-jobs must be at least 1, not 0", "mincloud serve"},
		{[]string{"serve", "--sync-timeout", "-1s"}, "--sync-timeout must be positive, not -1s", "mincloud serve"},
	} {
		r := c.run(tc.args...)
		assert.Equal(t, 2, r.code, "%q: %s", tc.args, r)
		assert.Equal(t, "error: "+tc.says+"\nRun '"+tc.help+" --help' for usage.\n", r.stderr, "%q", tc.args)
		assert.Empty(t, r.stdout, "%q", tc.args)
	}
}

func TestHelpVersionAndCompletion(t *testing.T) {
	t.Parallel()
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
	assert.True(t, strings.HasPrefix(r.stdout, "mincloud version "), r.stdout)

	r = c.run("completion", "bash")
	require.Equal(t, 0, r.code, r)
	assert.Contains(t, r.stdout, "__start_mincloud")
}
