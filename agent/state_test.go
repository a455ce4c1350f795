package agent_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// TestFileStateRoundTrip: what one agent saves, the next one opened on the
// same directory reads, with the permissions a private key deserves.
func TestFileStateRoundTrip(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	dir := filepath.Join(t.TempDir(), "sw1")
	a := newAgent(t, p, agent.FileState(dir))
	if err := a.SetUsage("network-advantage", 3); err != nil {
		t.Fatal(err)
	}
	if err := a.Register(t.Context(), "good-token", false); err != nil {
		t.Fatal(err)
	}
	if err := a.Authorize(t.Context()); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(filepath.Join(dir, agent.StateFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v (%v), want 0700", di.Mode().Perm(), err)
	}

	// Reopened without a UDI: the state says who the instance is.
	b, err := agent.New(agent.Options{Server: p.url, Clock: clock, Store: agent.FileState(dir)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.State(), a.State(); !reflect.DeepEqual(got, want) {
		t.Errorf("reloaded state differs:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(b.Status(), a.Status()) {
		t.Errorf("reloaded status differs:\n got %+v\nwant %+v", b.Status(), a.Status())
	}
	if b.Status().Mode != agent.ModeRegistered {
		t.Errorf("mode %q after reload, want registered", b.Status().Mode)
	}

	// Another UDI on the same directory is refused.
	_, err = agent.New(agent.Options{Server: p.url, Clock: clock, Store: agent.FileState(dir), UDI: smartlic.UDI{PID: "C9300-24T", SN: "OTHER"}})
	wantCode(t, err, smartlic.EConflict)
}

// TestFileStateMissing: no state is ErrNoState (not_found), and an agent
// cannot be opened without a UDI to create one.
func TestFileStateMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := agent.FileState(dir).Load()
	if !errors.Is(err, agent.ErrNoState) {
		t.Fatalf("Load of an empty directory: %v, want ErrNoState", err)
	}
	wantCode(t, err, smartlic.ENotFound)
	_, err = agent.New(agent.Options{Server: "http://127.0.0.1:1", Store: agent.FileState(dir)})
	if !errors.Is(err, agent.ErrNoState) {
		t.Fatalf("New without state or UDI: %v, want ErrNoState", err)
	}
	_, err = agent.New(agent.Options{Server: "http://127.0.0.1:1", Store: agent.FileState(dir), UDI: smartlic.UDI{PID: "C9300-24T", SN: "bad sn"}})
	wantCode(t, err, smartlic.EInvalid)
	if _, err := os.Stat(filepath.Join(dir, agent.StateFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an invalid UDI left a state file behind (%v)", err)
	}
}

// TestFileStateReplacesAtomically: a save replaces the file by rename, it
// never rewrites it in place. A reader holding the old file keeps reading
// the complete old state, and no temporary file is left over.
func TestFileStateReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	fs := agent.FileState(dir)
	old := agent.State{Version: agent.StateVersion, UDI: testUDI, Hostname: "old", CreatedAt: epoch, Usage: []smartlic.Usage{}}
	if err := fs.Save(old); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, agent.StateFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	next := old
	next.Hostname = "new"
	next.Usage = []smartlic.Usage{{LicenseTag: "dna-advantage", Count: 7}}
	if err := fs.Save(next); err != nil {
		t.Fatal(err)
	}

	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	var seen agent.State
	if err := json.Unmarshal(b, &seen); err != nil || seen.Hostname != "old" {
		t.Errorf("the old file changed under its reader (hostname %q, %v): the save was not a rename", seen.Hostname, err)
	}
	got, err := fs.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, next) {
		t.Errorf("Load after save:\n got %+v\nwant %+v", got, next)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != agent.StateFileName {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, agent.StateFileName)
	}
}

// TestFileStateRefusesWhatItCannotRead: garbage, unknown fields and a
// newer layout are errors, never a silently emptied state.
func TestFileStateRefusesWhatItCannotRead(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":       "not json",
		"unknown field": `{"version":1,"udi":{"pid":"C9300-24T","sn":"X1"},"created_at":"2026-01-01T00:00:00Z","usage":[],"evaluation":{"used_seconds":0},"licence":1}`,
		"newer layout":  `{"version":99,"udi":{"pid":"C9300-24T","sn":"X1"},"created_at":"2026-01-01T00:00:00Z","usage":[],"evaluation":{"used_seconds":0}}`,
		"no version":    `{"udi":{"pid":"C9300-24T","sn":"X1"},"created_at":"2026-01-01T00:00:00Z","usage":[],"evaluation":{"used_seconds":0}}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, agent.StateFileName), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := agent.FileState(dir).Load()
			wantCode(t, err, smartlic.EInvalid)
		})
	}
}

// TestStateFileEdits: the signed documents in the state are verified again
// when it is loaded. Editing a decoded copy changes nothing; editing a
// signed payload makes the state unusable rather than believed.
func TestStateFileEdits(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	dir := t.TempDir()
	a := newAgent(t, p, agent.FileState(dir))
	if err := a.Register(t.Context(), "good-token", false); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, agent.StateFileName)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(reg map[string]any)) {
		t.Helper()
		var st map[string]any
		if err := json.Unmarshal(orig, &st); err != nil {
			t.Fatal(err)
		}
		f(st["registration"].(map[string]any))
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	open := func() (*agent.Agent, error) {
		return agent.New(agent.Options{Server: p.url, Clock: clock, Store: agent.FileState(dir)})
	}

	edit(func(reg map[string]any) { reg["id_cert"].(map[string]any)["virtual_account"] = "Forged" })
	b, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if va := b.Status().Registration.VirtualAccount; va != "Building A" {
		t.Errorf("virtual account %q, want the signed one (Building A)", va)
	}

	edit(func(reg map[string]any) {
		doc := reg["id_cert_doc"].(map[string]any)
		payload, err := base64.StdEncoding.DecodeString(doc["payload"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var cert map[string]any
		if err := json.Unmarshal(payload, &cert); err != nil {
			t.Fatal(err)
		}
		cert["expires_at"] = "2099-01-01T00:00:00Z"
		payload, _ = json.Marshal(cert)
		doc["payload"] = base64.StdEncoding.EncodeToString(payload)
	})
	_, err = open()
	wantCode(t, err, smartlic.ESignature)
}
