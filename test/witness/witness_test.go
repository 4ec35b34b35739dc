// Package witness checks that every test FEATURES.md's table names exists and is not skipped.
package witness

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// namedTest is one "`pkg/dir` `TestName`" reference in FEATURES.md.
var namedTest = regexp.MustCompile("`([a-z0-9_/]+)` `((?:Test|Benchmark)[A-Za-z0-9_]+)`")

func TestEveryClaimedTestExistsAndRuns(t *testing.T) {
	root := filepath.Join("..", "..")
	table, err := os.ReadFile(filepath.Join(root, "FEATURES.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs := namedTest.FindAllStringSubmatch(string(table), -1)
	if len(refs) < 20 {
		t.Fatalf("feature table names only %d tests", len(refs))
	}
	funcs := map[string]map[string]*ast.FuncDecl{}
	for _, ref := range refs {
		dir, name := ref[1], ref[2]
		if funcs[dir] == nil {
			funcs[dir] = testFuncs(t, filepath.Join(root, dir))
		}
		fn, ok := funcs[dir][name]
		if !ok {
			t.Errorf("FEATURES.md names %s in %s, which does not exist", name, dir)
			continue
		}
		if skips(fn) {
			t.Errorf("%s in %s calls Skip: a claim needs a test that runs", name, dir)
		}
	}
}

func testFuncs(t *testing.T, dir string) map[string]*ast.FuncDecl {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s", dir)
	}
	out := map[string]*ast.FuncDecl{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil {
				out[fn.Name.Name] = fn
			}
		}
	}
	return out
}

func skips(fn *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "Skip") {
			found = true
		}
		return true
	})
	return found
}
