package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// The event log through the command line: list, export as CSV, verify
// through the API and straight from the database, and tampering found
// with a non-zero exit.
func TestEventsCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "events.db")
	var created struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(runWith(t, nil, "admin", "create-operator", "--db", db, "--email", "ops@example.com", "-o", "json")), &created); err != nil {
		t.Fatal(err)
	}
	url, _ := startServe(t, "--db", db)
	vars := map[string]string{"SMARTLIC_SERVER": url, "SMARTLIC_API_KEY": created.APIKey, "SMARTLIC_ACCOUNT": "acme.example"}
	runWith(t, vars, "account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
	runWith(t, vars, "va", "create", "Lab")
	runWith(t, vars, "va", "create", "Shop")

	out := runWith(t, vars, "events", "list")
	for _, want := range []string{"account.created", "va.created", "ops@example.com"} {
		if !strings.Contains(out, want) {
			t.Fatalf("events list lacks %q:\n%s", want, out)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(runWith(t, vars, "events", "export", "--format", "csv", "--type", "va."))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "seq" || rows[1][2] != "va.created" || rows[2][2] != "va.created" {
		t.Fatalf("CSV export = %v", rows)
	}
	// Each entry names the request that made the change, and two requests
	// are two ids.
	if rows[0][9] != "request_id" || rows[1][9] == "" || rows[1][9] == rows[2][9] {
		t.Fatalf("request ids in the export: %q, %q", rows[1][9], rows[2][9])
	}
	runWith(t, vars, "events", "verify")
	runWith(t, nil, "events", "verify", "--db", db)

	// The anchor: signed heads to a file, shown by domain, and a log that
	// still holds them.
	heads := filepath.Join(t.TempDir(), "heads.json")
	out = runWith(t, vars, "events", "head", "--out", heads)
	if !strings.Contains(out, "acme.example") || !strings.Contains(out, "HASH") {
		t.Fatalf("events head shows:\n%s", out)
	}
	if doc := runWith(t, vars, "events", "head"); !strings.Contains(doc, `"smartlic.event-heads/v1"`) {
		t.Fatalf("events head prints %s, want the signed document", doc)
	}
	runWith(t, vars, "events", "verify", "--against", heads)
	runWith(t, nil, "events", "verify", "--db", db, "--against", heads)

	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// Cut the last entry and move the head back to the one before it: the
	// chain links up, so only the anchor shows it.
	var seq int64
	var hash string
	if err := raw.QueryRow(`SELECT e.seq, e.hash FROM events e JOIN event_chains c ON c.chain = e.chain AND e.seq = c.seq - 1
		JOIN smart_accounts sa ON sa.id = c.chain WHERE sa.domain = 'acme.example'`).Scan(&seq, &hash); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DELETE FROM events WHERE seq = ? + 1 AND chain = (SELECT id FROM smart_accounts WHERE domain = 'acme.example')`, seq); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE event_chains SET seq = ?, hash = ? WHERE chain = (SELECT id FROM smart_accounts WHERE domain = 'acme.example')`, seq, hash); err != nil {
		t.Fatal(err)
	}
	runWith(t, vars, "events", "verify")
	for _, args := range [][]string{{"events", "verify", "--against", heads}, {"events", "verify", "--db", db, "--against", heads}} {
		err := run(context.Background(), args, &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(k string) string { return vars[k] }})
		if ExitCode(err) == 0 || !strings.Contains(fmt.Sprint(err), "acme.example") || !strings.Contains(fmt.Sprint(err), "removed from the end") {
			t.Fatalf("%v after the tail was cut: %v", args, err)
		}
	}
	if _, err := raw.Exec(`UPDATE events SET message = 'Lab was never created' WHERE type = 'va.created' AND seq = 2`); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"events", "verify"}, {"events", "verify", "--db", db}} {
		var stdout bytes.Buffer
		err := run(context.Background(), args, &env{stdout: &stdout, stderr: &bytes.Buffer{}, getenv: func(k string) string { return vars[k] }})
		if err == nil || ExitCode(err) == 0 {
			t.Fatalf("%v on a tampered log succeeded:\n%s", args, stdout.String())
		}
		if !strings.Contains(err.Error(), "entry 2") || !strings.Contains(err.Error(), "altered") {
			t.Fatalf("%v: error %q does not name entry 2 as altered", args, err)
		}
	}
}
