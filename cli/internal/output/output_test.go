package output

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func table(term Terminal, rows ...[]string) string {
	var b bytes.Buffer
	p := &Printer{W: &b, Format: Table, Term: term}
	_ = p.Print(nil, func(t *TableWriter) {
		t.Header(rows[0]...)
		for _, r := range rows[1:] {
			t.Row(r...)
		}
	})
	return b.String()
}

var rows = [][]string{
	{"name", "status", "message"},
	{"web", "applied", ""},
	{"db", "failed", "invalid config (phoenix-otelcol validate): 'processors' unknown type: \"topk\" for id: \"topk/processes\""},
}

func TestTableIsAlignedAndNeverCutOffATerminal(t *testing.T) {
	got := table(Terminal{}, rows...)
	want := "NAME   STATUS    MESSAGE\n" +
		"web    applied\n" +
		"db     failed    " + rows[2][2] + "\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestTableFitsTheTerminal(t *testing.T) {
	for _, width := range []int{40, 60, 80} {
		got := table(Terminal{Width: width}, rows...)
		for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Fatalf("width %d: line of %d runes:\n%s", width, n, got)
			}
		}
		if !strings.Contains(got, "…") || !strings.Contains(got, "applied") || !strings.Contains(got, "db ") {
			t.Fatalf("width %d: the long column must be cut, the short ones kept:\n%s", width, got)
		}
	}
	// Too narrow to fit: columns keep a readable minimum and overflow.
	got := table(Terminal{Width: 10}, rows...)
	if !strings.Contains(got, "STATUS") {
		t.Fatalf("narrow terminal:\n%s", got)
	}
}

func TestColourOnlyOnATerminal(t *testing.T) {
	var plain, tty bytes.Buffer
	for _, c := range []struct {
		b    *bytes.Buffer
		term Terminal
	}{{&plain, Terminal{}}, {&tty, Terminal{Color: true, Width: 120}}} {
		p := &Printer{W: c.b, Format: Table, Term: c.term}
		_ = p.Print(nil, func(t *TableWriter) {
			t.StyledRow(Cell{Text: "web"}, Cell{Text: "failed", Style: Bad})
		})
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Fatalf("colour off a terminal: %q", plain.String())
	}
	if !strings.Contains(tty.String(), "\x1b[31mfailed\x1b[0m") {
		t.Fatalf("no colour on a terminal: %q", tty.String())
	}
	// Detect on a buffer (not a terminal) gives neither colour nor width.
	if d := Detect(&plain); d.Color || d.Width != 0 {
		t.Fatalf("Detect(buffer) = %+v", d)
	}
}

func TestCellsStayOnOneLine(t *testing.T) {
	got := table(Terminal{}, []string{"a", "b"}, []string{"x", "line one\nline two\ttab\x07"})
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, "line one line two tab") {
		t.Fatalf("multi-line cell broke the table: %q", got)
	}
}

func TestJSONAndYAML(t *testing.T) {
	v := map[string]any{"b": 1, "a": []string{"x<y"}}
	var j, y bytes.Buffer
	if err := (&Printer{W: &j, Format: JSON}).Print(v, nil); err != nil {
		t.Fatal(err)
	}
	if j.String() != "{\n  \"a\": [\n    \"x<y\"\n  ],\n  \"b\": 1\n}\n" {
		t.Fatalf("json: %q", j.String())
	}
	if err := (&Printer{W: &y, Format: YAML}).Print(v, nil); err != nil {
		t.Fatal(err)
	}
	if y.String() != "a:\n  - x<y\nb: 1\n" {
		t.Fatalf("yaml: %q", y.String())
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "table, json, yaml") {
		t.Fatalf("ParseFormat(xml) = %v", err)
	}
}

func TestEmptyTable(t *testing.T) {
	var b bytes.Buffer
	_ = (&Printer{W: &b}).Print(nil, func(t *TableWriter) {
		t.Header("a")
		t.Empty("nothing here")
	})
	if b.String() != "nothing here\n" {
		t.Fatalf("%q", b.String())
	}
}
