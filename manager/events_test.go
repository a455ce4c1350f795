package manager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// eventTypes lists the types of a chain's events in order.
func eventTypes(t *testing.T, f *fixture, sa string, filter smartlic.EventFilter) []string {
	t.Helper()
	var types []string
	after := ""
	for {
		items, next, err := f.mgr.ListEvents(f.ctx, sa, filter, smartlic.Page{Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range items {
			types = append(types, e.Type)
		}
		if next == "" {
			return types
		}
		after = next
	}
}

func TestEventLogRecordsEveryChange(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	f.catalog()
	sa := f.account("events.example")
	must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Lab"}))
	// A refused change leaves no entry.
	_, err := f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Lab"})
	wantCode(t, err, smartlic.EConflict)
	must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.Domain, "Lab", smartlic.DepositInput{OrderNumber: "SO-1", License: "network-essentials", Quantity: 5}))
	tok := must[smartlic.Token](t)(f.mgr.CreateToken(f.ctx, sa.Domain, "Lab", smartlic.TokenInput{ExpiresInDays: 5, Description: "lab"}))
	d := newDevice(t, "EV1")
	must[smartlic.IDCert](t)(f.register(d, tok.Secret))
	must[smartlic.Authorization](t)(f.authorize(d, use("network-essentials", 2)))
	must[smartlic.Authorization](t)(f.authorize(d, use("network-essentials", 2))) // no change: no entry
	if _, err := f.mgr.Deregister(context.Background(), d.request(t, smartlic.TypeDeregisterRequest, f.clock.Now(), nil)); err != nil {
		t.Fatal(err)
	}
	must[smartlic.Token](t)(f.mgr.RevokeToken(f.ctx, sa.Domain, "Lab", tok.ID))

	want := []string{"account.created", "va.created", "deposit.created", "token.created", "instance.registered",
		"instance.usage_changed", "instance.deregistered", "token.revoked"}
	if got := eventTypes(t, f, sa.Domain, smartlic.EventFilter{}); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	if got := eventTypes(t, f, sa.Domain, smartlic.EventFilter{Type: "token."}); strings.Join(got, " ") != "token.created token.revoked" {
		t.Fatalf("type prefix filter: %v", got)
	}
	if got := eventTypes(t, f, sa.Domain, smartlic.EventFilter{Actor: d.udi.String()}); len(got) != 3 {
		t.Fatalf("events by the instance: %v", got)
	}
	if got := eventTypes(t, f, sa.Domain, smartlic.EventFilter{VirtualAccountID: "Lab"}); len(got) != len(want)-1 {
		t.Fatalf("events of VA Lab: %v", got)
	}
	if got := eventTypes(t, f, sa.Domain, smartlic.EventFilter{From: f.clock.Now().Add(smartlic.Day)}); len(got) != 0 {
		t.Fatalf("events after tomorrow: %v", got)
	}
	if got := eventTypes(t, f, smartlic.VendorChain, smartlic.EventFilter{}); len(got) != 5 { // 4 license types + 1 product
		t.Fatalf("vendor events: %v", got)
	}

	items, _, err := f.mgr.ListEvents(f.ctx, sa.Domain, smartlic.EventFilter{Type: "token.created"}, smartlic.Page{})
	if err != nil || len(items) != 1 {
		t.Fatalf("token.created: %v %v", items, err)
	}
	if e := items[0]; e.ActorEmail != "ops@example.com" || e.ActorRole != smartlic.RoleOperator || strings.Contains(string(e.After), tok.Secret) || len(e.After) == 0 {
		t.Fatalf("token event = %+v (must name the actor and never hold the secret)", e)
	}
	verdicts := must[[]smartlic.ChainVerdict](t)(f.mgr.VerifyEvents(f.ctx, ""))
	if len(verdicts) != 2 {
		t.Fatalf("verdicts = %+v, want the account's and the vendor's", verdicts)
	}
	for _, v := range verdicts {
		if !v.OK {
			t.Fatalf("untouched chain fails: %+v", v)
		}
	}
}

// Every kind of tampering is found, on both stores, and the first broken
// entry is named.
func TestEventLogTamperingDetected(t *testing.T) {
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteDSN, "postgres": storetest.PostgresDSN} {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				tamper  []string // statements with ? placeholders for the chain
				badSeq  int64
				problem string
			}{
				{"altered", []string{`UPDATE events SET message = 'nothing happened' WHERE chain = ? AND seq = 3`}, 3, "altered"},
				{"altered actor", []string{`UPDATE events SET actor_email = 'someone@else.example' WHERE chain = ? AND seq = 2`}, 2, "altered"},
				{"removed", []string{`DELETE FROM events WHERE chain = ? AND seq = 2`}, 3, "removed"},
				{"reordered", []string{
					`UPDATE events SET seq = 100 WHERE chain = ? AND seq = 2`,
					`UPDATE events SET seq = 2 WHERE chain = ? AND seq = 3`,
					`UPDATE events SET seq = 3 WHERE chain = ? AND seq = 100`}, 2, "link"},
				{"cut off the end", []string{`DELETE FROM events WHERE chain = ? AND seq = 4`}, 4, "end"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					db := dsn(t)
					f := newFixture(t, func(t *testing.T) *store.DB { return storetest.Open(t, db) })
					sa := f.account("tamper.example")
					for _, n := range []string{"A", "B", "C"} {
						must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.ID, smartlic.VirtualAccountInput{Name: n}))
					}
					if v := must[[]smartlic.ChainVerdict](t)(f.mgr.VerifyEvents(f.ctx, sa.ID)); len(v) != 1 || !v[0].OK || v[0].Entries != 4 {
						t.Fatalf("before tampering: %+v", v)
					}
					raw := storetest.OpenRaw(t, db)
					for _, q := range tc.tamper {
						if strings.HasPrefix(db, "postgres") {
							q = strings.Replace(q, "?", "$1", 1)
						}
						if _, err := raw.Exec(q, sa.ID); err != nil {
							t.Fatal(err)
						}
					}
					v := must[[]smartlic.ChainVerdict](t)(f.mgr.VerifyEvents(f.ctx, sa.ID))
					if len(v) != 1 || v[0].OK || v[0].BadSeq != tc.badSeq || !strings.Contains(v[0].Problem, tc.problem) {
						t.Fatalf("verdict = %+v, want entry %d reported (%q)", v, tc.badSeq, tc.problem)
					}
				})
			}
		})
	}
}
