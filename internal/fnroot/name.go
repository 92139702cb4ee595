package fnroot

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CheckName says why name cannot be a cloud function's name, or returns
// nil. It is the one rule the mincloud command (new, deploy, and every
// command that names a function) and the emulator (RegisterJS) apply.
//
// The platform documents one rule: the name must not be empty (Open API,
// 新建云函数: "云函数名，不能为空字符串"). The rest follows from where a name
// goes: it is a path segment of the Open API's URLs
// (/oserve/v1.3/cloud-function/NAME/), and NAME.js or NAME/ in the
// functions root, where dot files and node_modules are never functions.
func CheckName(name string) error {
	why := ""
	switch {
	case name == "":
		return fmt.Errorf("function name is empty")
	case !utf8.ValidString(name):
		why = "it is not valid UTF-8"
	case strings.ContainsAny(name, `/\`):
		why = `it may not hold / or \`
	case strings.HasPrefix(name, "."):
		why = "it may not start with a dot (the functions root ignores dot files)"
	case name == "node_modules":
		why = "node_modules holds the functions' packages"
	default:
		for i, r := range name {
			if r < 0x20 || r == 0x7f {
				why = fmt.Sprintf("it holds the control character %#02x at byte %d", r, i)
				break
			}
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("function name %q is not valid: %s", name, why)
}
