package manager

import (
	"context"
	"encoding/json"

	"github.com/smartlic/smartlic"
)

// record appends e to the event log inside the caller's transaction, so a
// change and its entry commit together or not at all. It fills in the
// time, the actor, the request id and the chain (the Smart Account's, or
// the vendor's when e names none).
func (m *Manager) record(ctx context.Context, tx smartlic.Tx, e smartlic.Event) error {
	chain := e.SmartAccountID
	if chain == "" {
		chain = smartlic.VendorChain
	}
	if a, ok := smartlic.ActorFrom(ctx); ok {
		e.ActorID, e.ActorEmail, e.ActorRole = a.KeyID, a.Email, a.Role
	}
	e.ID, e.At, e.RequestID = newID(), m.clock.Now(), smartlic.RequestIDFrom(ctx)
	head, err := tx.LockEventChain(ctx, chain)
	if err != nil {
		return err
	}
	e.Seal(head)
	return tx.AppendEvent(ctx, e)
}

// eventData is the before/after snapshot of an event. Domain types never
// carry secrets in their JSON form (hashes and keys are json:"-"), which is
// what makes them safe to log here.
func eventData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// deviceActor is the actor of a change an instance made through the device
// protocol: the instance itself.
func deviceActor(ctx context.Context, inst smartlic.Instance) context.Context {
	return smartlic.WithActor(ctx, smartlic.Actor{KeyID: inst.ID, Email: inst.UDI.String(), Role: "instance"})
}

// ListEvents lists a Smart Account's events (or the vendor's), oldest first.
func (m *Manager) ListEvents(ctx context.Context, saKey string, f smartlic.EventFilter, p smartlic.Page) ([]smartlic.Event, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return nil, "", smartlic.Invalid("to", "must be after from")
	}
	var out []smartlic.Event
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		chain, err := m.eventChain(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if f.VirtualAccountID != "" {
			sa, err := getSA(ctx, tx, chain)
			if err != nil {
				return err
			}
			va, err := getVAIn(ctx, tx, sa, f.VirtualAccountID, "va")
			if err != nil {
				return err
			}
			f.VirtualAccountID = va.ID
		}
		out, err = tx.ListEvents(ctx, chain, f, p)
		return err
	})
	out, next := cutPage(p, out, func(e smartlic.Event) string { return formatSeq(e.Seq) })
	return out, next, err
}

// eventChain resolves the chain a caller may read: a Smart Account's (by
// id or domain) or the vendor's.
func (m *Manager) eventChain(ctx context.Context, tx smartlic.Tx, saKey string) (string, error) {
	if saKey == smartlic.VendorChain {
		return smartlic.VendorChain, m.authorize(ctx, tx, PermOperatorManage, nil, nil)
	}
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return "", err
	}
	return sa.ID, m.authorize(ctx, tx, PermEventsView, &sa, nil)
}

// verifyBatch is how many entries verification reads per round trip.
const verifyBatch = 1000

// VerifyEvents checks the hash chain of one Smart Account (or the vendor
// chain), or of every chain when saKey is empty.
func (m *Manager) VerifyEvents(ctx context.Context, saKey string) ([]smartlic.ChainVerdict, error) {
	var verdicts []smartlic.ChainVerdict
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		heads, err := tx.EventChains(ctx)
		if err != nil {
			return err
		}
		want := ""
		if saKey != "" {
			if want, err = m.eventChain(ctx, tx, saKey); err != nil {
				return err
			}
		} else if err := m.authorize(ctx, tx, PermOperatorManage, nil, nil); err != nil {
			return err
		}
		found := false
		for _, h := range heads {
			if want != "" && h.Chain != want {
				continue
			}
			found = true
			v, err := VerifyChain(ctx, tx, h)
			if err != nil {
				return err
			}
			verdicts = append(verdicts, v)
		}
		if want != "" && !found {
			// A chain with no head has no entries, or lost its head row.
			v, err := VerifyChain(ctx, tx, smartlic.ChainHead{Chain: want})
			if err != nil {
				return err
			}
			verdicts = append(verdicts, v)
		}
		return nil
	})
	return verdicts, err
}

// VerifyChain walks one chain in batches and checks it against its head.
// It needs only a Tx, so `smartlic events verify --db` can run it on a
// database directly, without a server.
func VerifyChain(ctx context.Context, tx smartlic.Tx, head smartlic.ChainHead) (smartlic.ChainVerdict, error) {
	c := smartlic.NewChainChecker(head.Chain)
	var after int64
	for {
		batch, err := tx.ChainEvents(ctx, head.Chain, after, verifyBatch)
		if err != nil {
			return smartlic.ChainVerdict{}, err
		}
		for _, e := range batch {
			if !c.Next(e) {
				return c.Finish(head), nil
			}
			after = e.Seq
		}
		if len(batch) < verifyBatch {
			return c.Finish(head), nil
		}
	}
}
