package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// testSigningKeyRetirement: a rotation retires every key but the new one,
// round-trips the time, and can bring a retirement forward but never
// push it back.
func testSigningKeyRetirement(t *testing.T, f *fixture) {
	key := func(b byte, at time.Time) smartlic.SigningKey {
		return smartlic.SigningKey{ID: newID(t), Algorithm: "Ed25519", PublicKey: []byte{b}, PrivateKey: []byte{b, b}, CreatedAt: at}
	}
	k1, k2, k3 := key(1, f.now), key(2, f.now.Add(time.Hour)), key(3, f.now.Add(2*time.Hour))
	retire := func(keep string, at time.Time) int {
		var n int
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			var err error
			n, err = tx.RetireSigningKeys(ctx, keep, at)
			return err
		})
		return n
	}
	retiresAt := func() map[string]*time.Time {
		got := map[string]*time.Time{}
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			keys, err := tx.ListSigningKeys(ctx)
			for _, k := range keys {
				got[k.ID] = k.RetiresAt
			}
			return err
		})
		return got
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.InsertSigningKey(ctx, k1); err != nil {
			return err
		}
		return tx.InsertSigningKey(ctx, k2)
	})
	late := f.now.Add(720 * time.Hour)
	if n := retire(k2.ID, late); n != 1 {
		t.Fatalf("first rotation retired %d keys, want 1", n)
	}
	got := retiresAt()
	if got[k2.ID] != nil || got[k1.ID] == nil || !got[k1.ID].Equal(late) {
		t.Fatalf("after the first rotation: k1 retires %v (want %v), k2 retires %v (want never)", got[k1.ID], late, got[k2.ID])
	}

	// A later rotation with a longer grace leaves k1's earlier time alone;
	// one with a shorter grace brings it forward.
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertSigningKey(ctx, k3) })
	if n := retire(k3.ID, late.Add(time.Hour)); n != 1 {
		t.Fatalf("second rotation changed %d keys, want 1 (k2 only)", n)
	}
	got = retiresAt()
	if !got[k1.ID].Equal(late) || !got[k2.ID].Equal(late.Add(time.Hour)) || got[k3.ID] != nil {
		t.Fatalf("after the second rotation: k1 %v k2 %v k3 %v", got[k1.ID], got[k2.ID], got[k3.ID])
	}
	soon := f.now.Add(time.Minute)
	if n := retire(k3.ID, soon); n != 2 {
		t.Fatalf("an emergency rotation changed %d keys, want 2", n)
	}
	got = retiresAt()
	if !got[k1.ID].Equal(soon) || !got[k2.ID].Equal(soon) || got[k3.ID] != nil {
		t.Fatalf("after the emergency rotation: k1 %v k2 %v k3 %v", got[k1.ID], got[k2.ID], got[k3.ID])
	}
	// A key inserted already retiring round-trips its time.
	k4 := key(4, f.now)
	k4.RetiresAt = &soon
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertSigningKey(ctx, k4) })
	if got := retiresAt()[k4.ID]; got == nil || !got.Equal(soon) {
		t.Fatalf("inserted retirement read back as %v, want %v", got, soon)
	}
}
