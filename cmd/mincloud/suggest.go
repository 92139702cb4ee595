package main

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// unknownCommand matches cobra's error for a command it does not know.
var unknownCommand = regexp.MustCompile(`^unknown command ("(?:[^"\\]|\\.)*") for `)

// suggestion returns " (did you mean X?)" for an unknown-command error
// when a command's name is close to what was typed, else "". Close is a
// typo away (one edit in a name of up to four letters, two in a longer
// one; a swap of neighbours is one edit) or the first three letters or more of a name: cobra's own
// suggestions also offer every command to an empty or one-letter word.
func suggestion(root *cobra.Command, err error) string {
	m := unknownCommand.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	typed, uerr := strconv.Unquote(m[1])
	if uerr != nil || typed == "" {
		return ""
	}
	typed = strings.ToLower(typed)
	var close []string
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		name := c.Name()
		limit := 1
		if len(typed) > 4 {
			limit = 2
		}
		if editDistance(typed, name) <= limit || (len(typed) >= 3 && strings.HasPrefix(name, typed)) {
			close = append(close, name)
		}
	}
	switch len(close) {
	case 0:
		return ""
	case 1:
		return " (did you mean " + close[0] + "?)"
	}
	return " (did you mean " + strings.Join(close[:len(close)-1], ", ") + " or " + close[len(close)-1] + "?)"
}

// editDistance counts the edits from a to b, in bytes: insertions,
// deletions, substitutions and swaps of two neighbours ("lsit" is one
// edit from "list").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
