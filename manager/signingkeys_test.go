package manager_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestKeyRotationAcrossReplicas: two managers on one database stand for
// two replicas. A rotates; B, never restarted, verifies A's new documents,
// keeps serving devices registered under the old key during the grace
// period, refuses the old key's documents after it, and does not let
// forged kids cost more than one reload per second.
func TestKeyRotationAcrossReplicas(t *testing.T) {
	for name, dsnOf := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteDSN, "postgres": storetest.PostgresDSN} {
		t.Run(name, func(t *testing.T) { testKeyRotation(t, dsnOf(t)) })
	}
}

func testKeyRotation(t *testing.T, dsn string) {
	{
		clock := smartlic.NewFakeClock(epoch)
		a := must[*manager.Manager](t)(manager.New(t.Context(), storetest.Open(t, dsn), clock))
		b := must[*manager.Manager](t)(manager.New(t.Context(), storetest.Open(t, dsn), clock))
		fa := &fixture{t: t, ctx: smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator}), mgr: a, clock: clock}
		fb := &fixture{t: t, ctx: fa.ctx, mgr: b, clock: clock}
		ctx := fa.ctx

		oldKid := manager.SignerID(a)
		if manager.SignerID(b) != oldKid {
			t.Fatalf("replicas started with different signers: %s and %s", oldKid, manager.SignerID(b))
		}
		fa.catalog()
		sa := fa.account("rotate.example")
		must[smartlic.VirtualAccount](t)(a.CreateVirtualAccount(ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Lab"}))
		must[smartlic.Deposit](t)(a.CreateDeposit(ctx, sa.Domain, "Lab", smartlic.DepositInput{OrderNumber: "SO-1", License: "network-essentials", Quantity: 5}))
		tok := fa.token(sa.Domain, "Lab", smartlic.TokenInput{})
		d := newDevice(t, "ROT1")
		must[smartlic.IDCert](t)(fa.register(d, tok)) // its ID certificate is signed by the old key
		oldHeads := must[smartlic.Envelope](t)(a.EventHeads(ctx, ""))
		if oldHeads.KeyID != oldKid {
			t.Fatalf("heads signed by %s, want the old key %s", oldHeads.KeyID, oldKid)
		}

		clock.Advance(time.Hour) // the replicas have run a while
		grace := 48 * time.Hour
		_, err := a.RotateKey(ctx, -time.Second)
		wantCode(t, err, smartlic.EInvalid)
		newKey := must[smartlic.SigningKey](t)(a.RotateKey(ctx, grace))
		if newKey.ID == oldKid || manager.SignerID(a) != newKey.ID || len(newKey.PrivateKey) != 0 {
			t.Fatalf("after rotating, A signs with %s; new key %s (private half returned: %v)", manager.SignerID(a), newKey.ID, len(newKey.PrivateKey) != 0)
		}
		newHeads := must[smartlic.Envelope](t)(a.EventHeads(ctx, ""))
		if newHeads.KeyID != newKey.ID {
			t.Fatalf("A signed with %s after rotating, want %s", newHeads.KeyID, newKey.ID)
		}

		// B meets the new kid, reloads once, verifies, and signs with it.
		before := manager.KeyReloads(b)
		if _, err := b.VerifyEventsAgainst(ctx, "", newHeads); err != nil {
			t.Fatalf("replica B refused a document signed by A's new key: %v", err)
		}
		if got := manager.KeyReloads(b) - before; got != 1 {
			t.Fatalf("B reloaded its keys %d times for one unknown kid, want 1", got)
		}
		if manager.SignerID(b) != newKey.ID {
			t.Fatalf("B signs with %s after reloading, want %s", manager.SignerID(b), newKey.ID)
		}

		// Forged kids: each is refused, and together they cost no reload
		// within the second, then one per second at most.
		forged := func() smartlic.Envelope {
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			kid := make([]byte, 9)
			rand.Read(kid)
			env := must[smartlic.Envelope](t)(sign.Seal(smartlic.TypeEventHeads, sign.KeyID(kid), priv, smartlic.EventHeads{IssuedAt: clock.Now()}))
			return env
		}
		before = manager.KeyReloads(b)
		for range 50 {
			_, err := b.VerifyEventsAgainst(ctx, "", forged())
			wantCode(t, err, smartlic.ESignature)
		}
		if got := manager.KeyReloads(b) - before; got != 0 {
			t.Fatalf("50 forged kids right after a reload caused %d reloads, want 0", got)
		}
		clock.Advance(2 * time.Second)
		for range 50 {
			_, err := b.VerifyEventsAgainst(ctx, "", forged())
			wantCode(t, err, smartlic.ESignature)
		}
		if got := manager.KeyReloads(b) - before; got != 1 {
			t.Fatalf("50 forged kids a second later caused %d reloads, want 1", got)
		}
		// A known kid over another key's signature is refused too.
		tampered := forged()
		tampered.KeyID = newKey.ID
		_, err = b.VerifyEventsAgainst(ctx, "", tampered)
		wantCode(t, err, smartlic.ESignature)

		// During the grace period: the old key's documents still verify,
		// both keys are published, and the device registered under the old
		// key keeps authorizing and renewing through B (answers signed by
		// the new key, which B publishes).
		if _, err := b.VerifyEventsAgainst(ctx, "", oldHeads); err != nil {
			t.Fatalf("during the grace period B refused the old key's document: %v", err)
		}
		pub := must[smartlic.PublicKeySet](t)(b.PublicKeys(ctx))
		if len(pub.Keys) != 2 || pub.Keys[0].ID != oldKid || pub.Keys[0].RetiresAt == nil ||
			!pub.Keys[0].RetiresAt.Equal(epoch.Add(time.Hour+grace)) || pub.Keys[1].ID != newKey.ID || pub.Keys[1].RetiresAt != nil {
			t.Fatalf("published keys during the grace period: %+v", pub.Keys)
		}
		for _, k := range pub.Keys {
			if len(k.PrivateKey) != 0 {
				t.Fatalf("published key %s carries its private half", k.ID)
			}
		}
		must[smartlic.Authorization](t)(fb.authorize(d, use("network-essentials", 1)))
		renewed := must[smartlic.Envelope](t)(b.RenewID(context.Background(), d.request(t, smartlic.TypeRenewRequest, clock.Now(), nil)))
		if renewed.KeyID != newKey.ID {
			t.Fatalf("B renewed the ID certificate with %s, want the new key %s", renewed.KeyID, newKey.ID)
		}

		// After the grace period the old key's documents are refused on
		// both replicas and the key is no longer published.
		clock.Advance(grace)
		for name, m := range map[string]*manager.Manager{"A": a, "B": b} {
			_, err := m.VerifyEventsAgainst(ctx, "", oldHeads)
			wantCode(t, err, smartlic.ESignature)
			if _, err := m.VerifyEventsAgainst(ctx, "", newHeads); err != nil {
				t.Fatalf("%s refused the new key's document after the grace period: %v", name, err)
			}
			pub := must[smartlic.PublicKeySet](t)(m.PublicKeys(ctx))
			if len(pub.Keys) != 1 || pub.Keys[0].ID != newKey.ID {
				t.Fatalf("%s publishes %+v after the grace period, want only %s", name, pub.Keys, newKey.ID)
			}
		}
		// A restarted replica starts with the new key.
		c := must[*manager.Manager](t)(manager.New(t.Context(), storetest.Open(t, dsn), clock))
		if manager.SignerID(c) != newKey.ID {
			t.Fatalf("a restarted replica signs with %s, want %s", manager.SignerID(c), newKey.ID)
		}
	}
}

// TestPublicKeysCarryRollover: the published key set comes with a
// rollover document of exactly those keys signed by each of them, so a
// device that pinned any active key can verify the set; a key retired at
// once signs nothing any more.
func TestPublicKeysCarryRollover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		clock := smartlic.NewFakeClock(epoch)
		m := must[*manager.Manager](t)(manager.New(t.Context(), open(t), clock))
		check := func(wantKeys int) smartlic.PublicKeySet {
			t.Helper()
			ks := must[smartlic.PublicKeySet](t)(m.PublicKeys(t.Context()))
			if len(ks.Keys) != wantKeys || len(ks.Rollover) != wantKeys {
				t.Fatalf("%d keys and %d rollover documents, want %d of each", len(ks.Keys), len(ks.Rollover), wantKeys)
			}
			all := sign.NewKeySet(ks.Keys)
			signers := map[string]bool{}
			for _, doc := range ks.Rollover {
				pub, ok := all.Lookup(doc.KeyID)
				if !ok {
					t.Fatalf("a rollover document is signed by %s, which is not published", doc.KeyID)
				}
				var r smartlic.KeyRollover
				if err := sign.Open(doc, smartlic.TypeKeyRollover, sign.KeySet{doc.KeyID: pub}, &r); err != nil {
					t.Fatalf("the rollover document of %s does not verify with its own key: %v", doc.KeyID, err)
				}
				if got := sign.NewKeySet(r.Keys); len(got) != len(all) {
					t.Fatalf("the rollover document of %s lists %d keys, %d are published", doc.KeyID, len(got), len(all))
				}
				signers[doc.KeyID] = true
			}
			if len(signers) != wantKeys {
				t.Fatalf("rollover documents by %d distinct keys, want %d", len(signers), wantKeys)
			}
			return ks
		}
		check(1)
		must[smartlic.SigningKey](t)(m.RotateKey(t.Context(), time.Hour))
		check(2)
		must[smartlic.SigningKey](t)(m.RotateKey(t.Context(), 0))
		check(1)
	})
}
