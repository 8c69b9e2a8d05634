package readme

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestSnippetsCompile compiles every ```go block of README.md, as pasted, with `go vet` in a
// temporary module that replaces github.com/tracemdc/tracemdc (and the nested modules the snippets
// import) by this checkout. The convention, for whoever edits the README:
//
//   - A block that starts with "package" is a whole file and is compiled as it is, in a package of its
//     own.
//   - Any other block is the body of a function returning error (add "return err" freely). The names
//     it uses from outside, and imports the table below cannot guess, are declared in an HTML comment
//     on the line just above the block, invisible on GitHub:
//     <!-- go: ctx context.Context; core zapcore.Core; import "go.opentelemetry.io/otel"; keep handler -->
//     Each item is a parameter of that function ("name Type"), an import ("import [name] "path"") or
//     "keep" and the names of variables the block makes for the reader and does not use itself (they
//     count as used; any other unused variable fails, as Go says "declared and not used"). Imports
//     are otherwise added for the package names the block uses: the standard library's, this
//     repository's (nested modules included) and zap, zapcore and logrus.
//   - A block that must not be compiled (output, pseudo-code) is not a go block: use ```text, ```json…
func TestSnippetsCompile(t *testing.T) {
	root, readme := readREADME(t)
	snippets := extract(readme)
	if len(snippets) == 0 {
		t.Fatal("no go block in README.md")
	}
	mods := modules(t, root)
	names := packageNames(t, root, mods)
	dir := t.TempDir()
	used := map[string]bool{} // nested module paths the snippets import
	for i, s := range snippets {
		src, imports, err := s.file(fmt.Sprintf("s%d", i), names)
		if err != nil {
			t.Errorf("README.md:%d: %v\n%s", s.line, err, s.body)
			continue
		}
		for _, imp := range imports {
			if m := moduleOf(imp, mods); m != nil && m.dir != root {
				used[m.path] = true
			}
		}
		pkgDir := filepath.Join(dir, fmt.Sprintf("s%d", i))
		if err := os.MkdirAll(pkgDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkgDir, "snippet.go"), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if t.Failed() {
		return
	}
	writeModule(t, dir, root, mods, used)
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("go vet of the README's snippets: %v\n%s", err, annotate(string(out), snippets))
	}
	t.Logf("%d go blocks of README.md compiled", len(snippets))
}

// TestQuickStart: the README's Quick start is exactly the two commands a newcomer runs first.
func TestQuickStart(t *testing.T) {
	_, readme := readREADME(t)
	_, rest, ok := strings.Cut(readme, "\n## Quick start\n")
	if !ok {
		t.Fatal("no Quick start section")
	}
	_, block, _ := strings.Cut(rest, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var cmds []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		cmds = append(cmds, strings.TrimSpace(cmd))
	}
	if want := []string{"go run ./examples/quickstart", "go test ./..."}; !slices.Equal(cmds, want) {
		t.Fatalf("Quick start commands %q, want %q", cmds, want)
	}
}

// snippet is one go block of the README.
type snippet struct {
	line    int      // README line of its first line
	body    string   // the block's text
	params  []string // "name Type" from the go: comment
	imports []string // import specs from the go: comment, as written after "import"
	keep    []string // variables counted as used, from the go: comment
}

var contextComment = regexp.MustCompile(`^<!--\s*go:(.*?)-->\s*$`)

// extract returns the go blocks of a markdown text with the go: comment just above each.
func extract(md string) []snippet {
	var out []snippet
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		s := snippet{line: i + 2}
		if i > 0 {
			if m := contextComment.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				for _, item := range strings.Split(m[1], ";") {
					item = strings.TrimSpace(item)
					switch {
					case item == "":
					case strings.HasPrefix(item, "import "):
						s.imports = append(s.imports, strings.TrimSpace(strings.TrimPrefix(item, "import ")))
					case strings.HasPrefix(item, "keep "):
						s.keep = append(s.keep, strings.FieldsFunc(item[len("keep "):], func(r rune) bool { return r == ' ' || r == ',' })...)
					default:
						s.params = append(s.params, item)
					}
				}
			}
		}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		s.body = strings.Join(body, "\n") + "\n"
		out = append(out, s)
	}
	return out
}

// file returns the Go file of s in package pkg, and the import paths it has.
func (s snippet) file(pkg string, names map[string]string) ([]byte, []string, error) {
	if strings.HasPrefix(strings.TrimSpace(s.body), "package ") {
		f, err := parser.ParseFile(token.NewFileSet(), "snippet.go", s.body, parser.ImportsOnly)
		if err != nil {
			return nil, nil, err
		}
		var paths []string
		for _, imp := range f.Imports {
			paths = append(paths, strings.Trim(imp.Path.Value, `"`))
		}
		return []byte(s.body), paths, nil
	}
	head := "func _(" + strings.Join(s.params, ", ") + ") error {\n"
	fn := head + s.body + "}\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "snippet.go", "package p\n"+fn, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, fmt.Errorf("not a function body: %v", err)
	}
	decl := f.Decls[0].(*ast.FuncDecl)
	// Names declared in the function (parameters and its statements) and package names it selects from.
	local := map[string]bool{}
	ast.Inspect(decl, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			for _, id := range n.Names {
				local[id.Name] = true
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, e := range n.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						local[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				local[id.Name] = true
			}
		case *ast.RangeStmt:
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if id, ok := e.(*ast.Ident); ok && n.Tok == token.DEFINE {
					local[id.Name] = true
				}
			}
		}
		return true
	})
	importSpecs := slices.Clone(s.imports)
	given := map[string]bool{}
	for _, spec := range s.imports {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nimport "+spec, parser.ImportsOnly)
		if err != nil || len(f.Imports) != 1 {
			return nil, nil, fmt.Errorf("go: comment: bad import %q", spec)
		}
		name := filepath.Base(strings.Trim(f.Imports[0].Path.Value, `"`))
		if f.Imports[0].Name != nil {
			name = f.Imports[0].Name.Name
		}
		given[name] = true
	}
	var missing []string
	ast.Inspect(decl, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || local[id.Name] || given[id.Name] {
			return true
		}
		path, ok := names[id.Name]
		switch {
		case !ok && !slices.Contains(missing, id.Name):
			missing = append(missing, id.Name)
		case !ok:
		case path == "":
			missing = append(missing, id.Name+" (several packages have that name)")
			given[id.Name] = true
		default:
			given[id.Name] = true
			importSpecs = append(importSpecs, fmt.Sprintf("%q", path))
		}
		return true
	})
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("unknown names %v: declare them in a <!-- go: name Type; import \"path\" --> comment above the block", missing)
	}
	// The kept variables count as used; a function body ending in return gets no other.
	var tail strings.Builder
	for _, v := range s.keep {
		fmt.Fprintf(&tail, "\t_ = %s\n", v)
	}
	if n := len(decl.Body.List); n == 0 || !isReturn(decl.Body.List[n-1]) {
		tail.WriteString("\treturn nil\n")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	var paths []string
	if len(importSpecs) > 0 {
		b.WriteString("import (\n")
		for _, spec := range importSpecs {
			fmt.Fprintf(&b, "\t%s\n", spec)
			if i := strings.IndexByte(spec, '"'); i >= 0 {
				paths = append(paths, strings.Trim(spec[i:], `"`))
			}
		}
		b.WriteString(")\n\n")
	}
	// The body keeps its README lines: //line maps errors back to them.
	fmt.Fprintf(&b, "%s/*line README.md:%d*/%s", head, s.line, s.body)
	b.WriteString(tail.String())
	b.WriteString("}\n")
	return b.Bytes(), paths, nil
}

func isReturn(st ast.Stmt) bool {
	_, ok := st.(*ast.ReturnStmt)
	return ok
}

// module is a Go module of the repository.
type module struct{ path, dir string }

// modules returns the repository's modules, the root's first, longest paths first after it.
func modules(t *testing.T, root string) []*module {
	t.Helper()
	var mods []*module
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.Name() != "go.mod" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
				mods = append(mods, &module{path: f[1], dir: filepath.Dir(p)})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(mods, func(i, j int) bool { return len(mods[i].path) > len(mods[j].path) })
	return mods
}

// moduleOf returns the module an import path belongs to, or nil.
func moduleOf(path string, mods []*module) *module {
	for _, m := range mods { // longest first
		if path == m.path || strings.HasPrefix(path, m.path+"/") {
			return m
		}
	}
	return nil
}

// packageNames maps package names to import paths: the standard library's, then zap's and logrus's,
// then this repository's (which win). A name of several packages maps to "".
func packageNames(t *testing.T, root string, mods []*module) map[string]string {
	t.Helper()
	names := map[string]string{}
	add := func(out []byte, override bool) {
		seen := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) != 2 || f[0] == "main" || strings.Contains(f[1], "internal") || strings.Contains(f[1], "vendor/") {
				continue
			}
			if old, ok := seen[f[0]]; ok && old != f[1] {
				seen[f[0]] = ""
				continue
			}
			seen[f[0]] = f[1]
		}
		for n, p := range seen {
			if _, ok := names[n]; !ok || override {
				names[n] = p
			}
		}
	}
	list := func(dir string, args ...string) []byte {
		cmd := exec.Command("go", append([]string{"list", "-f", "{{.Name}} {{.ImportPath}}"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v in %s: %v", args, dir, err)
		}
		return out
	}
	add(list(root, "std"), false)
	// Where the standard library has several packages of one name, the usual one.
	for n, p := range map[string]string{"rand": "math/rand/v2", "template": "text/template", "pprof": "net/http/pprof"} {
		names[n] = p
	}
	for n, p := range map[string]string{"zap": "go.uber.org/zap", "zapcore": "go.uber.org/zap/zapcore", "logrus": "github.com/sirupsen/logrus"} {
		names[n] = p
	}
	for _, m := range mods {
		add(list(m.dir, "./..."), true)
	}
	return names
}

// writeModule writes go.mod and go.sum of the snippets' module: the root module and the nested modules
// used, replaced by their directories, with their requirements and checksums.
func writeModule(t *testing.T, dir, root string, mods []*module, used map[string]bool) {
	t.Helper()
	var gomod, gosum bytes.Buffer
	gomod.WriteString("module readmesnippets\n\ngo 1.23\n\n")
	for _, m := range mods {
		if m.dir != root && !used[m.path] {
			continue
		}
		fmt.Fprintf(&gomod, "require %s v0.0.0\nreplace %s => %s\n", m.path, m.path, m.dir)
		b, err := os.ReadFile(filepath.Join(m.dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range requires(string(b)) {
			if moduleOf(strings.Fields(req)[0], mods) == nil {
				fmt.Fprintf(&gomod, "require %s\n", req)
			}
		}
		if b, err := os.ReadFile(filepath.Join(m.dir, "go.sum")); err == nil {
			gosum.Write(b)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), gomod.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), gosum.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// requires returns the "path version" requirements of a go.mod text.
func requires(gomod string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(gomod, "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case in && f[0] == ")":
			in = false
		case in && len(f) == 2:
			out = append(out, f[0]+" "+f[1])
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			in = true
		case f[0] == "require" && len(f) == 3:
			out = append(out, f[1]+" "+f[2])
		}
	}
	return out
}

// annotate adds the failing snippets' text to go vet's output.
func annotate(out string, snippets []snippet) string {
	var b strings.Builder
	b.WriteString(out)
	for _, s := range snippets {
		if strings.Contains(out, fmt.Sprintf("README.md:%d:", s.line)) || lineIn(out, s) {
			fmt.Fprintf(&b, "\n--- snippet at README.md:%d\n%s", s.line, s.body)
		}
	}
	return b.String()
}

// lineIn reports whether out names a README line of s.
func lineIn(out string, s snippet) bool {
	n := strings.Count(s.body, "\n")
	for l := s.line; l < s.line+n; l++ {
		if strings.Contains(out, fmt.Sprintf("README.md:%d:", l)) {
			return true
		}
	}
	return false
}
