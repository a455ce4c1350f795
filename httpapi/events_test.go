package httpapi_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// rawDB is the database under a store, opened as an attacker with write
// access to it would: no smartlic code in between.
type rawDB struct {
	t        *testing.T
	db       *sql.DB
	postgres bool
}

func openRawDB(t *testing.T, dsn string) *rawDB {
	t.Helper()
	return &rawDB{t: t, db: storetest.OpenRaw(t, dsn), postgres: strings.HasPrefix(dsn, "postgres")}
}

// exec runs q, written with '?' placeholders, and returns the rows it changed.
func (r *rawDB) exec(q string, args ...any) int64 {
	r.t.Helper()
	if r.postgres {
		var b strings.Builder
		n := 0
		for _, c := range q {
			if c == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(c)
		}
		q = b.String()
	}
	res, err := r.db.Exec(q, args...)
	if err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// eachStoreDSN runs body on a fresh SQLite file and a fresh PostgreSQL
// schema, handing it the DSN so the test can reach under the store.
func eachStoreDSN(t *testing.T, body func(t *testing.T, dsn string)) {
	t.Helper()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteDSN, "postgres": storetest.PostgresDSN} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body(t, dsn(t))
		})
	}
}

func newEnvAt(t *testing.T, dsn string) *env {
	t.Helper()
	return newEnvOn(t, func(t *testing.T) *store.DB { return storetest.Open(t, dsn) })
}

// verdicts asks for verdicts: GET without an anchor, POST with one.
func (e *env) verdicts(path string, anchor []byte) []smartlic.ChainVerdict {
	e.t.Helper()
	r := request{method: "GET", path: path}
	if anchor != nil {
		r = request{method: "POST", path: path, body: string(anchor)}
	}
	a := e.do(r)
	wantStatus(e.t, a, http.StatusOK)
	var v wire.Items[smartlic.ChainVerdict]
	a.decode(e.t, &v)
	return v.Items
}

// verdictOf returns the verdict about the chain of a Smart Account (by
// domain) or the vendor chain, failing when there is none.
func verdictOf(t *testing.T, verdicts []smartlic.ChainVerdict, name string) smartlic.ChainVerdict {
	t.Helper()
	for _, v := range verdicts {
		if v.Name() == name {
			return v
		}
	}
	t.Fatalf("no verdict for %s in %+v: a chain escaped verification", name, verdicts)
	return smartlic.ChainVerdict{}
}

func wantIntact(t *testing.T, verdicts []smartlic.ChainVerdict) {
	t.Helper()
	for _, v := range verdicts {
		if !v.OK {
			t.Fatalf("untouched chain %s reported: %+v", v.Name(), v)
		}
	}
}

func wantTampered(t *testing.T, verdicts []smartlic.ChainVerdict, name string, badSeq int64, problem string) {
	t.Helper()
	v := verdictOf(t, verdicts, name)
	if v.OK || v.BadSeq != badSeq || !strings.Contains(v.Problem, problem) {
		t.Fatalf("verdict for %s = %+v, want entry %d reported (%q)", name, v, badSeq, problem)
	}
	for _, o := range verdicts {
		if o.Name() != name && !o.OK {
			t.Fatalf("chain %s was not touched but is reported: %+v", o.Name(), o)
		}
	}
}

// Where a tampering case expects the first bad entry, given the chain's
// length n before the attack.
func first(int64) int64     { return 1 }
func last(n int64) int64    { return n }
func pastEnd(n int64) int64 { return n + 1 }
func intact(int64) int64    { return 0 }

// The event log cannot be switched off by editing the database: deleting
// a chain's head row or the whole chain is reported, and a tail rewritten
// with consistently recomputed hashes (or cut short with its head moved
// back), which the chain alone cannot show, is found against signed heads
// taken earlier. Each attack is made on the database directly and checked
// through the API, on both stores.
func TestEventLogTamperingThroughHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// tamper edits the database; the chain is acme.example's and n
		// its number of entries.
		tamper func(e *env, db *rawDB, chain string, n int64)
		// plain is what verification without an anchor must say: the
		// first bad seq (past the last entry n when the end is at fault)
		// and a word of the problem, or 0 for "intact" (an attack only
		// the anchor can show); anchored, what it says against signed
		// heads taken before the attack.
		plainSeq     func(n int64) int64
		plainProblem string
		anchorSeq    func(n int64) int64
		anchorWord   string
	}{
		{name: "head row deleted", tamper: func(_ *env, db *rawDB, chain string, _ int64) {
			db.exec(`DELETE FROM event_chains WHERE chain = ?`, chain)
		}, plainSeq: pastEnd, plainProblem: "no head row", anchorSeq: pastEnd, anchorWord: "no head row"},
		{name: "head row deleted and tail cut", tamper: func(_ *env, db *rawDB, chain string, n int64) {
			db.exec(`DELETE FROM event_chains WHERE chain = ?`, chain)
			db.exec(`DELETE FROM events WHERE chain = ? AND seq = ?`, chain, n)
		}, plainSeq: last, plainProblem: "no head row", anchorSeq: last, anchorWord: "no head row"},
		{name: "whole chain deleted", tamper: func(_ *env, db *rawDB, chain string, _ int64) {
			db.exec(`DELETE FROM events WHERE chain = ?`, chain)
			db.exec(`DELETE FROM event_chains WHERE chain = ?`, chain)
		}, plainSeq: first, plainProblem: "chain was deleted", anchorSeq: first, anchorWord: "chain was deleted"},
		{name: "entries deleted and head reset", tamper: func(_ *env, db *rawDB, chain string, _ int64) {
			db.exec(`DELETE FROM events WHERE chain = ?`, chain)
			db.exec(`UPDATE event_chains SET seq = 0, hash = '' WHERE chain = ?`, chain)
		}, plainSeq: first, plainProblem: "chain was deleted", anchorSeq: first, anchorWord: "chain was deleted"},
		{name: "tail rewritten with recomputed hashes", tamper: func(e *env, db *rawDB, chain string, n int64) {
			rewriteTail(e, db, chain, 2)
		}, plainSeq: intact, anchorSeq: last, anchorWord: "rewritten"},
		{name: "tail cut and head moved back", tamper: func(e *env, db *rawDB, chain string, n int64) {
			prev := eventsOf(e, "acme.example")[n-2]
			db.exec(`DELETE FROM events WHERE chain = ? AND seq = ?`, chain, n)
			db.exec(`UPDATE event_chains SET seq = ?, hash = ? WHERE chain = ?`, prev.Seq, prev.Hash, chain)
		}, plainSeq: intact, anchorSeq: last, anchorWord: "removed from the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachStoreDSN(t, func(t *testing.T, dsn string) {
				e := newEnvAt(t, dsn)
				sa := e.account("acme.example")
				e.account("bystander.example")
				for _, name := range []string{"Lab", "Shop", "Plant"} {
					wantStatus(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/virtual-accounts", body: `{"name":"` + name + `"}`}), http.StatusCreated)
				}
				n := int64(len(eventsOf(e, "acme.example")))

				// The anchor, taken while the log is intact; an untouched
				// log passes against it.
				a := e.do(request{method: "GET", path: "/api/v1/events/head"})
				wantStatus(t, a, http.StatusOK)
				anchor := a.body
				var env smartlic.Envelope
				a.decode(t, &env)
				var heads smartlic.EventHeads
				if err := json.Unmarshal(env.Payload, &heads); err != nil || env.Type != smartlic.TypeEventHeads {
					t.Fatalf("heads document %s: %v", a.body, err)
				}
				if len(heads.Heads) != 3 { // acme, bystander, vendor
					t.Fatalf("signed heads = %+v, want three chains", heads.Heads)
				}
				wantIntact(t, e.verdicts("/api/v1/events/verify", nil))
				wantIntact(t, e.verdicts("/api/v1/events/verify", anchor))

				tc.tamper(e, openRawDB(t, dsn), sa.ID, n)

				for _, path := range []string{"/api/v1/events/verify", "/api/v1/accounts/acme.example/events/verify"} {
					plain := e.verdicts(path, nil)
					if tc.plainSeq(n) == 0 {
						wantIntact(t, plain) // only the anchor shows this one
					} else {
						wantTampered(t, plain, "acme.example", tc.plainSeq(n), tc.plainProblem)
					}
					wantTampered(t, e.verdicts(path, anchor), "acme.example", tc.anchorSeq(n), tc.anchorWord)
				}
				// The manager does not sign the head of a chain that fails.
				if tc.plainSeq(n) != 0 {
					wantError(t, e.do(request{method: "GET", path: "/api/v1/events/head"}), http.StatusConflict, smartlic.EConflict, "")
				}
			})
		})
	}
}

// The vendor chain is known by its owner too: with operator keys and a
// catalogue in the store, deleting the whole chain is reported.
func TestVendorChainDeletionThroughHTTP(t *testing.T) {
	t.Parallel()
	eachStoreDSN(t, func(t *testing.T, dsn string) {
		e := newEnvAt(t, dsn)
		e.account("acme.example")
		db := openRawDB(t, dsn)
		if n := db.exec(`DELETE FROM events WHERE chain = ?`, smartlic.VendorChain); n == 0 {
			t.Fatal("the vendor chain had no entries to delete")
		}
		db.exec(`DELETE FROM event_chains WHERE chain = ?`, smartlic.VendorChain)
		wantTampered(t, e.verdicts("/api/v1/events/verify", nil), smartlic.VendorChain, 1, "chain was deleted")
		wantTampered(t, e.verdicts("/api/v1/accounts/vendor/events/verify", nil), smartlic.VendorChain, 1, "chain was deleted")
	})
}

// Signed heads are checked before they are believed: an altered document,
// one of another type, and a per-account check against heads that do not
// hold that account are refused.
func TestEventHeadsAnchorChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account("acme.example")
	e.account("other.example")
	a := e.do(request{method: "GET", path: "/api/v1/accounts/other.example/events/head"})
	wantStatus(t, a, http.StatusOK)
	var env smartlic.Envelope
	a.decode(t, &env)
	var heads smartlic.EventHeads
	if err := json.Unmarshal(env.Payload, &heads); err != nil || len(heads.Heads) != 1 || heads.Heads[0].Account != "other.example" || heads.Heads[0].Seq == 0 {
		t.Fatalf("heads of other.example = %+v (%v)", heads, err)
	}
	wantIntact(t, e.verdicts("/api/v1/accounts/other.example/events/verify", a.body))

	forged := env
	forged.Payload = []byte(strings.Replace(string(env.Payload), `"seq":`, `"seq":1`, 1))
	b, _ := json.Marshal(forged)
	wantError(t, e.do(request{method: "POST", path: "/api/v1/events/verify", body: string(b)}), http.StatusBadRequest, smartlic.ESignature, "sig")

	cert := e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/events/head"})
	var other smartlic.Envelope
	cert.decode(t, &other)
	other.Type = smartlic.TypeIDCert
	b, _ = json.Marshal(other)
	wantError(t, e.do(request{method: "POST", path: "/api/v1/events/verify", body: string(b)}), http.StatusBadRequest, smartlic.ESignature, "type")

	wantError(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/events/verify", body: string(a.body)}), http.StatusBadRequest, smartlic.EInvalid, "anchor")
}

// eventsOf lists a chain's entries through the API.
func eventsOf(e *env, sa string) []smartlic.Event {
	e.t.Helper()
	a := e.do(request{method: "GET", path: "/api/v1/accounts/" + sa + "/events?limit=1000"})
	wantStatus(e.t, a, http.StatusOK)
	var p wire.Page[smartlic.Event]
	a.decode(e.t, &p)
	return p.Items
}

// rewriteTail changes the message of entry from and recomputes every hash
// after it and the head, as someone with write access to the database and
// the hash rule can: the chain links up again.
func rewriteTail(e *env, db *rawDB, chain string, from int64) {
	e.t.Helper()
	events := eventsOf(e, "acme.example")
	prev := ""
	for _, ev := range events {
		if ev.Seq < from {
			prev = ev.Hash
			continue
		}
		if ev.Seq == from {
			ev.Message = "nothing happened here"
		}
		ev.PrevHash = prev
		ev.Hash = ev.ComputeHash()
		db.exec(`UPDATE events SET message = ?, prev_hash = ?, hash = ? WHERE chain = ? AND seq = ?`, ev.Message, ev.PrevHash, ev.Hash, chain, ev.Seq)
		prev = ev.Hash
	}
	db.exec(`UPDATE event_chains SET hash = ? WHERE chain = ?`, prev, chain)
}

// eventHeads is a signed heads document of a Smart Account's chain (every
// chain for ""), taken by the operator, as a request body.
func (m *matrix) eventHeads(sa string) string {
	m.t.Helper()
	env, err := m.e.mgr.EventHeads(m.op, sa)
	if err != nil {
		m.t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		m.t.Fatal(err)
	}
	return string(b)
}
