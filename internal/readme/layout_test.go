package readme

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLayoutTable: the README's Layout table names every package of the main module and every
// nested module (by its directory, as `dir` or `dir/`), so that it stays the map of the repository.
func TestLayoutTable(t *testing.T) {
	root, readme := readREADME(t)
	listed := layoutNames(t, readme)

	var want []string
	for _, m := range modules(t, root) {
		if m.dir != root {
			rel, _ := filepath.Rel(root, m.dir)
			want = append(want, filepath.ToSlash(rel))
		}
	}
	nested := slices.Clone(want)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || slices.Contains(nested, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if dir := filepath.ToSlash(filepath.Dir(rel)); dir != "." && strings.HasSuffix(p, ".go") &&
			!strings.HasSuffix(p, "_test.go") && !slices.Contains(want, dir) {
			want = append(want, dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range want {
		if !listed[dir] {
			t.Errorf("README.md's Layout table does not name %s", dir)
		}
	}
	for name := range listed {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("README.md's Layout table names %s, which does not exist", name)
		}
	}
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// layoutNames returns the names in code spans of the first column of the "## Layout" table, without
// a trailing slash.
func layoutNames(t *testing.T, md string) map[string]bool {
	t.Helper()
	_, section, ok := strings.Cut(md, "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no Layout section")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	names := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(cells[1], -1) {
			names[strings.TrimSuffix(m[1], "/")] = true
		}
	}
	if len(names) == 0 {
		t.Fatal("README.md's Layout section has no table")
	}
	return names
}

// TestDependencies: the main module requires what the Layout section's last paragraph says, zap,
// logrus and lumberjack (and goleak for its tests), and nothing else directly; anything heavier
// belongs in a nested module.
func TestDependencies(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var direct []string
	inRequire := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "require (":
			inRequire = true
			continue
		case line == ")":
			inRequire = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inRequire:
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 && !strings.Contains(line, "// indirect") {
			direct = append(direct, f[0])
		}
	}
	slices.Sort(direct)
	want := []string{"github.com/sirupsen/logrus", "go.uber.org/goleak", "go.uber.org/zap", "gopkg.in/natefinch/lumberjack.v2"}
	if !slices.Equal(direct, want) {
		t.Errorf("go.mod requires %q directly, README.md's Layout says %q", direct, want)
	}
}

// readREADME returns the repository's root directory and its README.md.
func readREADME(t *testing.T) (root, text string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return root, string(b)
}
