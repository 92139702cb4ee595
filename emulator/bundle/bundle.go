// Package bundle turns a function of a functions folder into the one
// JavaScript file the platform runs: esbuild bundles its relative files
// and npm packages into one CommonJS file for Node 12 (the platform's
// runtime), Node's built-in modules left to require, with an inline source
// map. The emulator's serve and the mincloud command's deploy and build
// all bundle through here, so that what runs locally is byte for byte
// what is uploaded.
package bundle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// SourceScheme prefixes every source the source map names: the path
// after it is relative to the functions folder (boom.ts, lib/util.ts,
// node_modules/lodash/lodash.js). A bundle thus does not depend on where
// it is written or which machine built it, and a debugger maps the
// scheme to the folder (VS Code: "sourceMapPathOverrides").
const SourceScheme = "mincloud:///"

// Bundle is one function bundled.
type Bundle struct {
	Name  string
	Entry string // the function's file, absolute
	// Code is the file to run and to upload. For a plain function, a .js
	// file that requires nothing but Node's built-ins, it is the file's
	// own bytes, as before bundling existed.
	Code    []byte
	Bundled bool     // false when Code is the entry file as it is
	Inputs  []string // every file the bundle took in, absolute, sorted; at least Entry
}

// Error is a function that cannot be bundled, with esbuild's messages.
type Error struct {
	Name     string
	Messages []string // "file:line:col: text", file relative to the functions folder
}

func (e *Error) Error() string {
	return fmt.Sprintf("function %s cannot be bundled: %s", e.Name, strings.Join(e.Messages, "; "))
}

// maxMessages bounds the messages an Error keeps: the first few say what
// to fix.
const maxMessages = 5

// Build bundles the function name, whose file is entry, in the functions
// folder root. A failure is an *Error, or an error reading the folder.
func Build(root, name, entry string) (*Bundle, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	entry, err = filepath.Abs(entry)
	if err != nil {
		return nil, err
	}
	res := api.Build(api.BuildOptions{
		EntryPoints:   []string{entry},
		AbsWorkingDir: root,
		Bundle:        true,
		Platform:      api.PlatformNode, // Node's built-ins stay external
		Format:        api.FormatCommonJS,
		Engines:       []api.Engine{{Name: api.EngineNode, Version: "12"}},
		Sourcemap:     api.SourceMapExternal, // inlined below, with our own source names
		// Never written: it only puts the map's sources relative to root.
		Outfile:  filepath.Join(root, name+".bundle.js"),
		Write:    false,
		Metafile: true,
		LogLevel: api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		return nil, &Error{Name: name, Messages: messages(res.Errors)}
	}
	var code, smap []byte
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			smap = f.Contents
		} else {
			code = f.Contents
		}
	}
	inputs, plain, err := readMeta(root, entry, res.Metafile)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Name: name, Entry: entry, Inputs: inputs}
	if plain {
		if b.Code, err = os.ReadFile(entry); err != nil {
			return nil, err
		}
		return b, nil
	}
	b.Bundled = true
	if b.Code, err = inline(code, smap); err != nil {
		return nil, err
	}
	return b, nil
}

// messages words esbuild's errors as "file:line:col: text".
func messages(ms []api.Message) []string {
	var out []string
	for _, m := range ms {
		if len(out) == maxMessages {
			out = append(out, fmt.Sprintf("and %d more", len(ms)-maxMessages))
			break
		}
		text := m.Text
		if strings.HasPrefix(text, "Could not resolve ") && m.Location != nil && !strings.HasPrefix(strings.Trim(strings.TrimPrefix(text, "Could not resolve "), `"`), ".") {
			// esbuild's own note suggests marking it external, which the
			// platform cannot honour: the package must be in the bundle.
			text += ": install it where Node finds it from the function's folder (npm install in that folder or a folder above)"
		}
		if m.Location == nil {
			out = append(out, text)
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d:%d: %s", filepath.ToSlash(m.Location.File), m.Location.Line, m.Location.Column+1, text))
	}
	return out
}

// readMeta lists the files the bundle took in, from esbuild's metafile,
// and says whether the function is plain: one CommonJS .js file.
func readMeta(root, entry, metafile string) (inputs []string, plain bool, err error) {
	var meta struct {
		Inputs map[string]struct {
			Format string `json:"format"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(metafile), &meta); err != nil {
		return nil, false, fmt.Errorf("bundle: esbuild's metafile: %w", err)
	}
	entryFormat := ""
	for p, in := range meta.Inputs {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(root, filepath.FromSlash(p))
		}
		inputs = append(inputs, abs)
		if abs == entry {
			entryFormat = in.Format
		}
	}
	if len(inputs) == 0 {
		inputs = []string{entry}
	}
	sort.Strings(inputs)
	plain = len(inputs) == 1 && inputs[0] == entry && strings.HasSuffix(entry, ".js") && entryFormat != "esm"
	return inputs, plain, nil
}

// inline renames the map's sources to SourceScheme paths and appends it
// to code as a data URL, which Node, Chrome and VS Code read.
func inline(code, smap []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(smap, &m); err != nil {
		return nil, fmt.Errorf("bundle: esbuild's source map: %w", err)
	}
	var sources []string
	if err := json.Unmarshal(m["sources"], &sources); err != nil {
		return nil, fmt.Errorf("bundle: esbuild's source map: %w", err)
	}
	for i, s := range sources {
		sources[i] = SourceScheme + strings.TrimPrefix(s, "./")
	}
	m["sources"], _ = json.Marshal(sources)
	smap, err := json.Marshal(m) // map keys sorted: the same bytes every time
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(code) + base64.StdEncoding.EncodedLen(len(smap)) + 64)
	out.Write(code)
	if len(code) > 0 && code[len(code)-1] != '\n' {
		out.WriteByte('\n')
	}
	out.WriteString("//# sourceMappingURL=data:application/json;base64,")
	out.WriteString(base64.StdEncoding.EncodeToString(smap))
	out.WriteByte('\n')
	return out.Bytes(), nil
}
