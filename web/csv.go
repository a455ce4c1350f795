package web

import (
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/smartlic/smartlic"
)

// writeCSV answers a table as a CSV download. A cell that a spreadsheet
// would run as a formula (=, +, -, @ first) gets a leading apostrophe:
// names come from other people and the file is opened in Excel.
func writeCSV(w http.ResponseWriter, filename string, t smartlic.Table) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	for _, row := range t.Rows {
		safe := make([]string, len(row))
		for i, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				if _, err := strconv.ParseFloat(c, 64); err != nil {
					c = "'" + c
				}
			}
			safe[i] = c
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
