package smartlic_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// TestEventHasherSeals holds EventHasher.Seal to Event.Seal: the same
// event, place and hash, for entries whose text could confuse a splice of
// the encoding (field names and JSON inside strings, HTML characters that
// encoding/json escapes, non-ASCII), on an empty chain and a long one.
func TestEventHasherSeals(t *testing.T) {
	at := time.Date(2026, 11, 30, 21, 0, 0, 123456789, time.FixedZone("x", 3600))
	base := smartlic.Event{ID: "01a2", At: at, SmartAccountID: "sa-1", VirtualAccountID: "va-1", Type: "instance.registered",
		Subject: "inst-1", Message: "PID:SN (host) registered with token \"rollout\"", ActorID: "inst-1",
		ActorEmail: "", ActorRole: "device", RequestID: "req-1", After: json.RawMessage(`{"udi":{"pid":"PID","sn":"SN"}}`)}
	tricky := base
	tricky.ID = `,"seq":0,"at":`
	tricky.Message = `<b>&</b> ,"prev_hash":"","hash":""} ünïcödé ,"seq":0,`
	tricky.Before = json.RawMessage(`{"seq":0,"prev_hash":""}`)
	tricky.After = nil
	sparse := smartlic.Event{ID: "e", At: at, Type: "t", Subject: "s", Message: "m"}
	heads := []smartlic.ChainHead{
		{Chain: "sa-1"},
		{Chain: "sa-1", Seq: 41, Hash: "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"},
		{Chain: "sa-1", Seq: 1<<62 - 1, Hash: "00ff"},
	}
	for _, e := range []smartlic.Event{base, tricky, sparse} {
		for _, head := range heads {
			want := e
			want.Seal(head)
			got := e
			smartlic.NewEventHasher(e, "sa-1").Seal(&got, head)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("sealed after %+v:\n got %+v\nwant %+v", head, got, want)
			}
			if got.Hash != got.ComputeHash() {
				t.Errorf("sealed after %+v: hash %s does not verify", head, got.Hash)
			}
		}
	}
	// Another chain than the one encoded for, or a head whose hash would
	// need escaping: Seal encodes the entry itself, and is still right.
	for _, head := range []smartlic.ChainHead{{Chain: "sa-2", Seq: 3, Hash: "ab"}, {Chain: "sa-1", Seq: 3, Hash: `a"b`}} {
		want, got := base, base
		want.Seal(head)
		smartlic.NewEventHasher(base, "sa-1").Seal(&got, head)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sealed after %+v:\n got %+v\nwant %+v", head, got, want)
		}
	}
}
