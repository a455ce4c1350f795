package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

// The harness's numbers count only if its checks would catch a wrong
// answer. These tests time nothing: they feed the checks right and wrong
// answers from a small real server.

func smallServer(t *testing.T) *server {
	t.Helper()
	srv, err := startServer(t.Context(), "sqlite", "", 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

func cloneResult(res loadResult) loadResult {
	c := res
	c.status = slices.Clone(res.status)
	c.errs = slices.Clone(res.errs)
	c.bodies = make([][]byte, len(res.bodies))
	for i, b := range res.bodies {
		c.bodies[i] = bytes.Clone(b)
	}
	return c
}

func TestRegistrationCheckCatchesWrongAnswers(t *testing.T) {
	srv := smallServer(t)
	sc, err := setupRegistrations(srv)
	if err != nil {
		t.Fatal(err)
	}
	devs, bodies, err := sc.prepare(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.postLoad("/device/v1/register", bodies, 2).run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if f := sc.check(devs, res); f.count != 0 {
		t.Fatalf("right answers refused: %v", f.first)
	}
	if uses, err := sc.tokenUses(); err != nil || uses != 3 {
		t.Fatalf("token uses = %d, %v; want 3", uses, err)
	}

	tamper := map[string]func(r *loadResult){
		"another device's certificate": func(r *loadResult) { r.bodies[0] = r.bodies[1] },
		"status 500":                   func(r *loadResult) { r.status[2] = http.StatusInternalServerError },
		"altered payload": func(r *loadResult) {
			var env smartlic.Envelope
			if err := json.Unmarshal(r.bodies[0], &env); err != nil {
				t.Fatal(err)
			}
			env.Payload = bytes.Replace(env.Payload, []byte(`"issued_at"`), []byte(`"issued_at" `), 1)
			r.bodies[0], _ = json.Marshal(env)
		},
		"not an envelope": func(r *loadResult) { r.bodies[1] = []byte(`{"ok":true}`) },
	}
	for name, change := range tamper {
		t.Run(name, func(t *testing.T) {
			bad := cloneResult(res)
			change(&bad)
			if f := sc.check(devs, bad); f.count != 1 {
				t.Errorf("check counted %d failures, want 1: %v", f.count, f.first)
			}
		})
	}
}

func TestPoolCheckCatchesWrongTotals(t *testing.T) {
	srv := smallServer(t)
	fx, err := seedPoolView(t.Context(), srv, 40, 7, 4, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range fx.queries() {
		res, err := srv.getLoad(q.path, 1, 1).run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if res.errs[0] != nil || res.status[0] != http.StatusOK {
			t.Fatalf("GET %s: %d %v %s", q.path, res.status[0], res.errs[0], res.bodies[0])
		}
		if err := fx.checkPools(q, res.bodies[0]); err != nil {
			t.Fatalf("%s: right answer refused: %v", q.name, err)
		}
		var pools wire.Items[smartlic.Pool]
		if err := json.Unmarshal(res.bodies[0], &pools); err != nil {
			t.Fatal(err)
		}
		pools.Items[0].InUse--
		wrong, _ := json.Marshal(pools)
		if err := fx.checkPools(q, wrong); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("%s: an in-use count one short passed the check (err %v)", q.name, err)
		}
	}
}
