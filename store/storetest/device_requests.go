package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunDeviceRequests runs the conformance tests of the store that makes
// device requests single-use; open returns a new, empty store for each
// subtest.
func RunDeviceRequests(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"ClaimDeviceRequest", testClaimDeviceRequest},
		{"ConcurrentClaimDeviceRequest", testConcurrentClaimDeviceRequest},
		{"ForgetDeviceRequests", testForgetDeviceRequests},
	})
}

func (f *fixture) claim(r smartlic.SeenRequest) (prior smartlic.SeenRequest, ok bool) {
	f.t.Helper()
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		prior, ok, err = tx.ClaimDeviceRequest(ctx, r)
		return err
	})
	return prior, ok
}

func testClaimDeviceRequest(t *testing.T, f *fixture) {
	r := smartlic.SeenRequest{Hash: "h1", InstanceID: "inst-1", SentAt: f.now, ExpiresAt: f.now.Add(20 * time.Minute)}
	if _, ok := f.claim(r); !ok {
		t.Fatal("a new request was not claimed")
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		r := r
		r.Answer = []byte(`{"type":"x"}`)
		return tx.AnswerDeviceRequest(ctx, r)
	})
	prior, ok := f.claim(r)
	if ok || prior.InstanceID != "inst-1" || !prior.SentAt.Equal(f.now) || !prior.ExpiresAt.Equal(r.ExpiresAt) || string(prior.Answer) != `{"type":"x"}` {
		t.Fatalf("second claim: ok %v, prior %+v", ok, prior)
	}
	// Requests are keyed by sent_at and hash: another request sent at the
	// same time is its own, and answering one leaves the other unanswered.
	other := smartlic.SeenRequest{Hash: "h1-other", InstanceID: "inst-3", SentAt: f.now, ExpiresAt: r.ExpiresAt}
	if _, ok := f.claim(other); !ok {
		t.Fatal("a request sent at the same time as another was not claimed")
	}
	if prior, ok := f.claim(other); ok || prior.InstanceID != "inst-3" || prior.Answer != nil {
		t.Fatalf("claim of an unanswered request sent with another: ok %v, prior %+v", ok, prior)
	}
	if prior, ok := f.claim(r); ok || string(prior.Answer) != `{"type":"x"}` {
		t.Fatalf("third claim: ok %v, prior %+v", ok, prior)
	}
	// A claim rolled back with its transaction leaves nothing behind.
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		if _, ok, err := tx.ClaimDeviceRequest(ctx, smartlic.SeenRequest{Hash: "h2", SentAt: f.now, ExpiresAt: f.now}); err != nil || !ok {
			return fmt.Errorf("claim h2: %v %v", ok, err)
		}
		return smartlic.Invalid("x", "refused")
	})
	if smartlic.ErrorCode(err) != smartlic.EInvalid {
		t.Fatal(err)
	}
	if _, ok := f.claim(smartlic.SeenRequest{Hash: "h2", SentAt: f.now, ExpiresAt: f.now}); !ok {
		t.Fatal("a claim that was rolled back still counts")
	}

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		for _, c := range []struct {
			inst string
			at   time.Time
			want bool
		}{
			{"inst-1", f.now.Add(-time.Microsecond), true},
			{"inst-1", f.now, false},
			{"inst-1", f.now.Add(time.Second), false},
			{"inst-2", f.now.Add(-time.Hour), false},
		} {
			got, err := tx.NewerDeviceRequest(ctx, c.inst, c.at)
			if err != nil {
				return err
			}
			if got != c.want {
				t.Errorf("NewerDeviceRequest(%s, %s) = %v, want %v", c.inst, c.at, got, c.want)
			}
		}
		return nil
	})
}

// Of many copies of one request claimed at once, exactly one wins, and
// every other sees the winner's answer: on PostgreSQL the losers wait for
// the winner's transaction instead of missing its row.
func testConcurrentClaimDeviceRequest(t *testing.T, f *fixture) {
	const copies = 16
	var wins atomic.Int32
	answers := make([]string, copies)
	f.writeAtOnce(copies, func(i int, tx smartlic.Tx) error {
		ctx := f.ctx()
		r := smartlic.SeenRequest{Hash: "same", InstanceID: "inst", SentAt: f.now, ExpiresAt: f.now.Add(time.Hour)}
		prior, ok, err := tx.ClaimDeviceRequest(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			answers[i] = string(prior.Answer)
			return nil
		}
		wins.Add(1)
		answers[i] = fmt.Sprintf(`{"winner":%d}`, i)
		r.Answer = []byte(answers[i])
		return tx.AnswerDeviceRequest(ctx, r)
	})
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d copies claimed the request, want exactly 1", n)
	}
	for i, a := range answers {
		if a != answers[0] || a == "" {
			t.Fatalf("copy %d got answer %q, copy 0 %q: every copy must see the one answer", i, a, answers[0])
		}
	}
}

func testForgetDeviceRequests(t *testing.T, f *fixture) {
	for i := range 5 {
		f.claim(smartlic.SeenRequest{Hash: fmt.Sprint("old-", i), InstanceID: "inst", SentAt: f.now, ExpiresAt: f.now.Add(time.Duration(i) * time.Minute)})
	}
	f.claim(smartlic.SeenRequest{Hash: "young", InstanceID: "inst", SentAt: f.now, ExpiresAt: f.now.Add(time.Hour)})
	forget := func(limit int) int64 {
		var n int64
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			var err error
			n, err = tx.ForgetDeviceRequests(ctx, f.now.Add(10*time.Minute), limit)
			return err
		})
		return n
	}
	if n := forget(3); n != 3 {
		t.Fatalf("forgot %d, want the limit 3", n)
	}
	if n := forget(3); n != 2 {
		t.Fatalf("forgot %d, want the remaining 2", n)
	}
	if _, ok := f.claim(smartlic.SeenRequest{Hash: "old-0", SentAt: f.now, ExpiresAt: f.now}); !ok {
		t.Fatal("a forgotten request is still remembered")
	}
	if _, ok := f.claim(smartlic.SeenRequest{Hash: "young", SentAt: f.now, ExpiresAt: f.now}); ok {
		t.Fatal("a request still in its window was forgotten")
	}
}
