// Package output prints the phoenix CLI's results as a table, JSON or YAML.
//
// Tables are for people: on a terminal they fit its width (the widest
// columns are cut with an ellipsis) and statuses are coloured; anywhere else
// (a pipe, a file, a test) they are plain and never cut, so scripts that
// parse them do not lose data. JSON and YAML are for scripts: they print the
// server's objects as they are, never cut and never coloured.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/term"
)

// Format is an output format.
type Format string

// Formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// Formats lists the formats, for flag help and errors.
func Formats() []string { return []string{string(Table), string(JSON), string(YAML)} }

// ParseFormat checks a -o value.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Table, JSON, YAML:
		return Format(s), nil
	case "":
		return Table, nil
	}
	return "", fmt.Errorf("--output %q is not a format: use one of %s", s, strings.Join(Formats(), ", "))
}

// Terminal describes where output goes.
type Terminal struct {
	// Color is true when ANSI colours may be used: a TTY, and NO_COLOR unset.
	Color bool
	// Width is the terminal's width in columns, 0 when not a terminal (no
	// cutting).
	Width int
}

// Detect inspects w: a terminal gets colour (unless NO_COLOR is set or TERM
// is dumb) and its width; anything else gets neither.
func Detect(w io.Writer) Terminal {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Terminal{}
	}
	t := Terminal{Color: os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"}
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		t.Width = w
	} else if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		t.Width = c
	} else {
		t.Width = 80
	}
	return t
}

// Printer writes results in one format.
type Printer struct {
	W      io.Writer
	Format Format
	Term   Terminal
}

// Print writes v as JSON or YAML, or calls table for the table format.
func (p *Printer) Print(v any, table func(*TableWriter)) error {
	switch p.Format {
	case JSON:
		return WriteJSON(p.W, v)
	case YAML:
		return WriteYAML(p.W, v)
	}
	t := p.NewTable()
	table(t)
	return t.Flush()
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteYAML writes v as YAML. v goes through JSON first, so that YAML keys
// are the API's JSON names and omitempty holds.
func WriteYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var generic any
	if err := yaml.Unmarshal(b, &generic); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(generic); err != nil {
		return err
	}
	return enc.Close()
}

// NewTable starts a table for this printer's terminal.
func (p *Printer) NewTable() *TableWriter {
	return &TableWriter{w: p.W, term: p.Term}
}

// Style is a cell's colour on a terminal.
type Style int

// Styles.
const (
	Plain Style = iota
	Good
	Warn
	Bad
	Dim
)

var ansi = map[Style]string{Good: "\x1b[32m", Warn: "\x1b[33m", Bad: "\x1b[31m", Dim: "\x1b[2m"}

// Cell is a table cell with an optional style.
type Cell struct {
	Text  string
	Style Style
}

// TableWriter collects rows and prints them aligned.
type TableWriter struct {
	w      io.Writer
	term   Terminal
	header []string
	rows   [][]Cell
	// minWidth keeps a column from being cut below this many runes.
	minWidth []int
	empty    string
}

// Header sets the column names (printed upper case, as kubectl does).
func (t *TableWriter) Header(cols ...string) {
	t.header = cols
}

// Row adds a row of plain strings.
func (t *TableWriter) Row(cells ...string) {
	r := make([]Cell, len(cells))
	for i, c := range cells {
		r[i] = Cell{Text: oneLine(c)}
	}
	t.rows = append(t.rows, r)
}

// StyledRow adds a row of cells.
func (t *TableWriter) StyledRow(cells ...Cell) {
	for i := range cells {
		cells[i].Text = oneLine(cells[i].Text)
	}
	t.rows = append(t.rows, cells)
}

// oneLine keeps a cell on one line: a multi-line error message would break
// the columns.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// Empty sets the line printed instead of the header when there are no rows.
func (t *TableWriter) Empty(msg string) { t.empty = msg }

// Len is the number of rows.
func (t *TableWriter) Len() int { return len(t.rows) }

const gap = 3

// Flush prints the table.
func (t *TableWriter) Flush() error {
	if len(t.rows) == 0 && t.empty != "" {
		_, err := fmt.Fprintln(t.w, t.empty)
		return err
	}
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	widths := make([]int, n)
	for i, h := range t.header {
		widths[i] = runeLen(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], runeLen(c.Text))
		}
	}
	if t.term.Width > 0 {
		fit(widths, t.term.Width-gap*(n-1))
	}
	var b strings.Builder
	line := func(cells []Cell) {
		b.Reset()
		for i := 0; i < n; i++ {
			var c Cell
			if i < len(cells) {
				c = cells[i]
			}
			text := cut(c.Text, widths[i])
			pad := widths[i] - runeLen(text)
			if t.term.Color && c.Style != Plain {
				text = ansi[c.Style] + text + "\x1b[0m"
			}
			b.WriteString(text)
			if i < n-1 {
				b.WriteString(strings.Repeat(" ", pad+gap))
			}
		}
		fmt.Fprintln(t.w, strings.TrimRight(b.String(), " "))
	}
	if len(t.header) > 0 {
		hs := make([]Cell, len(t.header))
		for i, h := range t.header {
			hs[i] = Cell{Text: strings.ToUpper(h)}
		}
		line(hs)
	}
	for _, r := range t.rows {
		line(r)
	}
	return nil
}

// fit shrinks the widest columns until the total fits in avail, never a
// column below minCol (the table then overflows rather than becoming
// unreadable).
func fit(widths []int, avail int) {
	const minCol = 6
	for {
		total, widest := 0, -1
		for i, w := range widths {
			total += w
			if w > minCol && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if total <= avail || widest < 0 {
			return
		}
		// Shrink the widest column to the second widest, or by the excess.
		second := minCol
		for i, w := range widths {
			if i != widest && w > second && w <= widths[widest] {
				second = w
			}
		}
		excess := total - avail
		target := max(widths[widest]-excess, second, minCol)
		if target == widths[widest] {
			target = widths[widest] - 1
		}
		widths[widest] = target
	}
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// cut shortens s to w runes, ending with an ellipsis when cut.
func cut(s string, w int) string {
	if runeLen(s) <= w {
		return s
	}
	if w <= 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:w-1]) + "…"
}
