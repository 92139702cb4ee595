package fnroot

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"helloWorld", "a", "with_underscore-and-dash", "has space", "中文"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":             "function name is empty",
		"a/b":          `function name "a/b" is not valid: it may not hold / or \`,
		`a\b`:          `function name "a\\b" is not valid: it may not hold / or \`,
		".":            `function name "." is not valid: it may not start with a dot (the functions root ignores dot files)`,
		"..":           `function name ".." is not valid: it may not start with a dot (the functions root ignores dot files)`,
		".hidden":      `function name ".hidden" is not valid: it may not start with a dot (the functions root ignores dot files)`,
		"node_modules": `function name "node_modules" is not valid: node_modules holds the functions' packages`,
		"tab\there":    `function name "tab\there" is not valid: it holds the control character 0x09 at byte 3`,
		"del\x7f":      `function name "del\x7f" is not valid: it holds the control character 0x7f at byte 3`,
		"bad\xff":      `function name "bad\xff" is not valid: it is not valid UTF-8`,
	} {
		err := CheckName(name)
		if err == nil || err.Error() != want {
			t.Errorf("CheckName(%q) = %v, want %s", name, err, want)
		}
	}
}

// Every name the rule accepts is a function the root can hold and list.
func TestAValidNameRoundTripsThroughTheRoot(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"has space", "中文", "x-y_z"} {
		if err := os.WriteFile(filepath.Join(root, name+".js"), []byte("exports.main = () => 1"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := Find(root, name); !ok || err != nil {
			t.Errorf("Find(%q) = %v, %v", name, ok, err)
		}
	}
	fns, err := List(root)
	if err != nil || len(fns) != 3 {
		t.Fatalf("List = %v, %v", fns, err)
	}
}
