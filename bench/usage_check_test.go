package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
)

// The usage runs' numbers count only if their checks would catch a wrong
// answer: these feed them right and wrong answers from a small real
// server, timing nothing.

func TestUsageCheckCatchesWrongAnswers(t *testing.T) {
	srv := smallServer(t)
	sc, err := setupUsage(t.Context(), srv, 3, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	const perRequest = 2
	bodies, _, err := sc.onlineBodies(t.Context(), perRequest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.postLoad("/device/v1/usage", bodies, 2).run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if f := sc.checkOnline(t.Context(), res, perRequest); f.count != 0 {
		t.Fatalf("right answers refused: %v", f.first)
	}
	tamper := map[string]func(r *loadResult){
		"another instance's ACK": func(r *loadResult) { r.bodies[0] = r.bodies[1] },
		"status 500":             func(r *loadResult) { r.status[2] = http.StatusInternalServerError },
		"not an ACK file":        func(r *loadResult) { r.bodies[1] = []byte(`{"type":"smartlic.usage-file/v1","acks":[]}`) },
		"altered ACK": func(r *loadResult) {
			r.bodies[0] = bytes.Replace(r.bodies[0], []byte(`"acks":[{"type":"`), []byte(`"acks":[{"type":"x`), 1)
		},
	}
	for name, change := range tamper {
		t.Run(name, func(t *testing.T) {
			bad := cloneResult(res)
			change(&bad)
			if f := sc.checkOnline(t.Context(), bad, perRequest); f.count == 0 {
				t.Error("the check passed")
			}
		})
	}
	// ACKs right, but one report fewer accepted than sent.
	// (The pool check then fails too: it counts instances whose answers
	// checked.)
	if f := sc.checkOnline(t.Context(), res, perRequest+1); f.count < len(sc.devs) {
		t.Errorf("a report missing from every ACK: %d failures, want at least %d", f.count, len(sc.devs))
	}
}

func TestUsageFileCheckCatchesWrongAnswers(t *testing.T) {
	srv := smallServer(t)
	sc, err := setupUsage(t.Context(), srv, 3, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	plan, _, err := sc.usageFile(t.Context(), 7) // 3, 2 and 2 reports
	if err != nil {
		t.Fatal(err)
	}
	var answers [2][]byte
	for k := range answers {
		status, body, _, err := srv.upload(t.Context(), sc.sa.Domain, "check.json", plan.raw)
		if err != nil {
			t.Fatal(err)
		}
		f := &failures{}
		sc.checkUpload(f, plan, status, body, k == 1)
		if f.count != 0 {
			t.Fatalf("upload %d: right answer refused: %v", k+1, f.first)
		}
		answers[k] = body
	}
	f := &failures{}
	f.checkPools(t.Context(), srv, sc.sa.Domain, 3)
	if f.count != 0 {
		t.Fatalf("pools after the uploads: %v", f.first)
	}

	var ack smartlic.AckFile
	if err := json.Unmarshal(answers[0], &ack); err != nil {
		t.Fatal(err)
	}
	dropped := ack
	dropped.Acks = ack.Acks[1:]
	swapped := ack
	swapped.Acks = append([]smartlic.Envelope{ack.Acks[1]}, ack.Acks[1:]...)
	otherPlan := plan
	otherPlan.perInstance = []int{2, 3, 2}
	cases := map[string]struct {
		plan   usageFilePlan
		status int
		body   []byte
		dup    bool
	}{
		"duplicates counted as new":     {plan, 200, answers[1], false},
		"new reports called duplicates": {plan, 200, answers[0], true},
		"an ACK missing":                {plan, 200, mustJSON(t, dropped), false},
		"one instance ACKed twice":      {plan, 200, mustJSON(t, swapped), false},
		"reports per ACK wrong":         {otherPlan, 200, answers[0], false},
		"status 500":                    {plan, 500, answers[0], false},
	}
	for name, c := range cases {
		f := &failures{}
		sc.checkUpload(f, c.plan, c.status, c.body, c.dup)
		if f.count == 0 {
			t.Errorf("%s: the check passed", name)
		}
	}
	f = &failures{}
	f.checkPools(t.Context(), srv, sc.sa.Domain, 4)
	if f.count == 0 {
		t.Error("pools: one instance too many passed the check")
	}
}

// The two commands run end to end on a tiny load and print their numbers.
func TestUsageCommandsRun(t *testing.T) {
	for _, args := range [][]string{
		{"usage", "--n", "4", "--reports-per-request", "3", "--concurrency", "2"},
		{"usage-file", "--reports", "9", "--instances", "4"},
	} {
		var out, log bytes.Buffer
		if err := run(t.Context(), args, &out, &log); err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out.String(), log.String())
		}
		for _, want := range []string{"Ed25519 verify on one core", "sqlite", "of the single-core bound"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out.String())
			}
		}
	}
	if err := run(t.Context(), []string{"usage-file", "--reports", "10001"}, io.Discard, io.Discard); err == nil {
		t.Error("a file over the 10,000-report limit was accepted as a flag")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
