package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// printer writes what a client command shows: a human table, or the
// object as indented JSON for scripts.
type printer struct {
	w    io.Writer
	json bool
}

// table says how to show one kind of object as a row.
type table[T any] struct {
	header []string
	row    func(T) []string
}

// listJSON is the JSON shape of every list: the items and the cursor of
// the next page, "" on the last one, so a script can page with --after.
type listJSON[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// printOne shows one object: a one-row table, or the object in JSON.
func printOne[T any](p printer, v T, t table[T]) error {
	if p.json {
		return writeJSON(p.w, v)
	}
	return writeTable(p.w, t.header, [][]string{t.row(v)})
}

// printList shows a page of objects.
func printList[T any](p printer, items []T, next string, t table[T]) error {
	if p.json {
		if items == nil {
			items = []T{} // "items": [] rather than null, so scripts can iterate
		}
		return writeJSON(p.w, listJSON[T]{Items: items, Next: next})
	}
	rows := make([][]string, 0, len(items))
	for _, v := range items {
		rows = append(rows, t.row(v))
	}
	return writeTable(p.w, t.header, rows)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i, c := range r {
			if c == "" {
				r[i] = "-"
			}
			// A tab or newline inside a cell would break the columns.
			r[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(r[i])
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// fmtTime shows an instant in UTC to the minute; tables are for people.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

// fmtDate shows the day of an instant in UTC.
func fmtDate(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// human turns a wire enum such as "in_compliance" into "in compliance".
func human[S ~string](s S) string { return strings.ReplaceAll(string(s), "_", " ") }
