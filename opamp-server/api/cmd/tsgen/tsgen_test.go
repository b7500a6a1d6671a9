package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The committed console/src/api.gen.ts is what the generator writes today.
func TestGeneratedFileUpToDate(t *testing.T) {
	want, err := Generate(Roots)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "..", "..", Output))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with package api: run `go run ./opamp-server/api/cmd/tsgen` from the repository root", Output)
	}
}

// Every exported struct type of package api is in Roots.
func TestEveryAPITypeIsGenerated(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join("..", ".."), func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range Roots {
		have[reflect.TypeOf(r).Name()] = true
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, s := range gd.Specs {
					ts := s.(*ast.TypeSpec)
					if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() && !have[ts.Name.Name] {
						t.Errorf("api.%s is not in tsgen's Roots: add it", ts.Name.Name)
					}
				}
			}
		}
	}
}

// The mapping follows encoding/json.
func TestMapping(t *testing.T) {
	type Inner struct {
		A string `json:"a"`
	}
	type Doc struct {
		Inner
		N    int               `json:"n"`
		O    string            `json:"o,omitempty"`
		P    *Inner            `json:"p"`
		L    []Inner           `json:"l"`
		M    map[string]any    `json:"m,omitzero"`
		S    map[string][]bool `json:"s"`
		Skip string            `json:"-"`
		priv string
	}
	src, err := Generate([]any{Doc{}})
	if err != nil {
		t.Fatal(err)
	}
	want := "export interface Doc {\n  a: string;\n  n: number;\n  o?: string;\n  p?: Inner;\n  l: Inner[] | null;\n  m?: Record<string, unknown>;\n  s: Record<string, boolean[]> | null;\n}\n"
	if !strings.Contains(string(src), want) || !strings.Contains(string(src), "export interface Inner {\n  a: string;\n}\n") {
		t.Fatalf("generated:\n%s", src)
	}
}
