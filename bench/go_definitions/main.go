// Command go_definitions labels retrieval cases for bench/retrieval_bench_go.py with the Go toolchain's own
// type checker (go/types, imports type-checked from source in GOPATH mode), independent of Roost.
//
// A case is a selector x.Name (a package-qualified pkg.Name, a method, or a field) whose definition lies in
// another non-test file of the project directory. It prints a JSON list of cases (paths relative to -root,
// 0-based lines, the column in characters at the start of Name).
//
//	GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 go run ./bench/go_definitions -root DIR -count N
package main

import (
	"encoding/json"
	"flag"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

type labelled struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Name     string `json:"name"`
	GoldPath string `json:"gold_path"`
	GoldLine int    `json:"gold_line"`
	GoldText string `json:"gold_text"`
	Site     string `json:"site"`
	Kind     string `json:"kind"`
}

type site struct {
	selector *ast.SelectorExpr
	file     string
	info     *types.Info
}

func main() {
	root := flag.String("root", "", "the project directory (inside GOPATH/src)")
	count := flag.Int("count", 150, "cases to label")
	seed := flag.Int64("seed", 7, "sampling seed")
	perFile := flag.Int("per-file", 15, "at most this many cases from one file")
	flag.Parse()
	abs, err := filepath.Abs(*root)
	if err != nil {
		panic(err)
	}
	fset := token.NewFileSet()
	imports := importer.ForCompiler(fset, "source", nil).(types.ImporterFrom)
	var sites []site
	lines := map[string][]string{}
	for _, dir := range packageDirs(abs) {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil || len(pkg.GoFiles) == 0 {
			continue
		}
		var files []*ast.File
		for _, name := range pkg.GoFiles {
			path := filepath.Join(dir, name)
			file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				continue
			}
			files = append(files, file)
		}
		info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
		config := types.Config{Importer: imports, Error: func(error) {}}
		// Type errors (a dependency Debian does not ship) leave the rest of the package's uses labelled.
		_, _ = config.Check(pkg.ImportPath, fset, files, info)
		for _, file := range files {
			path := fset.Position(file.Pos()).Filename
			ast.Inspect(file, func(node ast.Node) bool {
				if selector, ok := node.(*ast.SelectorExpr); ok {
					sites = append(sites, site{selector, path, info})
				}
				return true
			})
		}
	}
	rng := rand.New(rand.NewSource(*seed))
	byFile := map[string][]site{}
	var order []string
	for _, s := range sites {
		if _, ok := byFile[s.file]; !ok {
			order = append(order, s.file)
		}
		byFile[s.file] = append(byFile[s.file], s)
	}
	sort.Strings(order)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	cases := []labelled{}
	for _, file := range order {
		candidates := byFile[file]
		rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
		taken := 0
		for _, s := range candidates {
			if taken >= *perFile || len(cases) >= *count {
				break
			}
			if c, ok := label(fset, abs, s, lines); ok {
				cases = append(cases, c)
				taken++
			}
		}
	}
	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(cases); err != nil {
		panic(err)
	}
}

func label(fset *token.FileSet, root string, s site, lines map[string][]string) (labelled, bool) {
	info := s.info
	obj := info.Uses[s.selector.Sel]
	if obj == nil || obj.Pkg() == nil || !obj.Pos().IsValid() {
		return labelled{}, false
	}
	gold := fset.Position(obj.Pos())
	rel, ok := relative(root, gold.Filename)
	if !ok || gold.Filename == s.file || strings.HasSuffix(rel, "_test.go") {
		return labelled{}, false
	}
	here := fset.Position(s.selector.Sel.Pos())
	fileRel, _ := relative(root, s.file)
	text := fileLines(s.file, lines)
	if here.Line-1 >= len(text) || here.Column-1 > len(text[here.Line-1]) {
		return labelled{}, false
	}
	line := text[here.Line-1]
	goldText := fileLines(gold.Filename, lines)
	return labelled{
		File:     fileRel,
		Line:     here.Line - 1,
		Col:      utf8.RuneCountInString(line[:here.Column-1]),
		Name:     s.selector.Sel.Name,
		GoldPath: rel,
		GoldLine: gold.Line - 1,
		GoldText: strings.TrimSpace(goldText[gold.Line-1]),
		Site:     siteOf(info, s.selector),
		Kind:     kindOf(obj),
	}, true
}

func siteOf(info *types.Info, selector *ast.SelectorExpr) string {
	if selection, ok := info.Selections[selector]; ok {
		if selection.Kind() == types.FieldVal {
			return "field"
		}
		return "method"
	}
	return "pkg"
}

func kindOf(obj types.Object) string {
	switch o := obj.(type) {
	case *types.Func:
		if o.Type().(*types.Signature).Recv() != nil {
			return "method"
		}
		return "func"
	case *types.TypeName:
		return "type"
	case *types.Const:
		return "const"
	case *types.Var:
		if o.IsField() {
			return "field"
		}
		return "var"
	}
	return "other"
}

func relative(root, path string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "testdata" || part == "vendor" {
			return "", false
		}
	}
	return filepath.ToSlash(rel), true
}

func fileLines(path string, cache map[string][]string) []string {
	if text, ok := cache[path]; ok {
		return text
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	cache[path] = strings.Split(string(raw), "\n")
	return cache[path]
}

func packageDirs(root string) []string {
	var dirs []string
	filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if entry.IsDir() {
			name := entry.Name()
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			dirs = append(dirs, path)
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs
}
