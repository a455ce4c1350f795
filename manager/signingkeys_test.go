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
