package main

import (
	"regexp"
	"strings"
)

// shellSafe matches words a POSIX shell reads as they are.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote returns s as one word of a shell command: as it is when the
// shell reads it so, else in single quotes, so that a hint the user
// copies runs as printed (invoke 'has space').
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hint returns a mincloud command line with each argument quoted as the
// shell needs.
func hint(args ...string) string {
	q := make([]string, len(args))
	for i, s := range args {
		q[i] = shellQuote(s)
	}
	return "mincloud " + strings.Join(q, " ")
}
