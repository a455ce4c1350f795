package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
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

	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
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
