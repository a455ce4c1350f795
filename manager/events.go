package manager

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// record appends e to the event log inside the caller's transaction, so a
// change and its entry commit together or not at all. It fills in the
// time, the actor, the request id and the chain (the Smart Account's, or
// the vendor's when e names none).
func (m *Manager) record(ctx context.Context, tx smartlic.Tx, e smartlic.Event) error {
	e, chain := m.entry(ctx, e)
	head, err := tx.LockEventChain(ctx, chain)
	if err != nil {
		return err
	}
	e.Seal(head)
	return tx.AppendEvent(ctx, e)
}

// actorEvent is an event to record and the context its actor is in.
type actorEvent struct {
	ctx context.Context
	e   smartlic.Event
}

// chainOf names the event chain e goes to.
func chainOf(e smartlic.Event) string {
	if e.SmartAccountID == "" {
		return smartlic.VendorChain
	}
	return e.SmartAccountID
}

// recordAll records events in their order, as record would one after
// another, but locks each chain once and writes a run of entries of one
// chain together: an ingestion of a thousand instances appends its
// thousand events in a few statements.
func (m *Manager) recordAll(tx smartlic.Tx, events []actorEvent) error {
	for len(events) > 0 {
		chain := chainOf(events[0].e)
		n := 1
		for n < len(events) && chainOf(events[n].e) == chain {
			n++
		}
		run := make([]smartlic.Event, n)
		head, err := tx.LockEventChain(events[0].ctx, chain)
		if err != nil {
			return err
		}
		for i, ae := range events[:n] {
			run[i], _ = m.entry(ae.ctx, ae.e)
			run[i].Seal(head)
			head = smartlic.ChainHead{Chain: chain, Seq: run[i].Seq, Hash: run[i].Hash}
		}
		if err := tx.AppendEvents(events[0].ctx, run); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// entry completes e but for its place in the chain, which it returns.
func (m *Manager) entry(ctx context.Context, e smartlic.Event) (smartlic.Event, string) {
	chain := chainOf(e)
	if a, ok := smartlic.ActorFrom(ctx); ok {
		e.ActorID, e.ActorEmail, e.ActorRole = a.KeyID, a.Email, a.Role
	}
	e.ID, e.At, e.RequestID = newID(), m.clock.Now(), smartlic.RequestIDFrom(ctx)
	return e, chain
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
	p, err := fetchSeqPage(p)
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
		chain, err := m.verifyScope(ctx, tx, saKey)
		if err != nil {
			return err
		}
		verdicts, err = VerifyChains(ctx, tx, chain, nil)
		return err
	})
	return verdicts, err
}

// VerifyEventsAgainst is VerifyEvents that also holds each chain to the
// heads of a TypeEventHeads document this manager signed: only an anchor
// kept outside the database shows a tail rewritten with recomputed hashes.
func (m *Manager) VerifyEventsAgainst(ctx context.Context, saKey string, anchor smartlic.Envelope) ([]smartlic.ChainVerdict, error) {
	// The keys come first and outside the transaction: an unknown kid
	// reloads them, in a read of its own.
	keys, err := m.verifyingKeys(ctx, anchor)
	if err != nil {
		return nil, err
	}
	var verdicts []smartlic.ChainVerdict
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		chain, err := m.verifyScope(ctx, tx, saKey)
		if err != nil {
			return err
		}
		var heads smartlic.EventHeads
		if err := sign.Open(anchor, smartlic.TypeEventHeads, keys, &heads); err != nil {
			return err
		}
		verdicts, err = VerifyChains(ctx, tx, chain, &heads)
		return err
	})
	return verdicts, err
}

// EventHeads signs the heads of the chains in scope, after verifying them:
// the manager vouches only for chains that are intact.
func (m *Manager) EventHeads(ctx context.Context, saKey string) (smartlic.Envelope, error) {
	doc := smartlic.EventHeads{IssuedAt: m.clock.Now().UTC(), Heads: []smartlic.AnchoredHead{}}
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		chain, err := m.verifyScope(ctx, tx, saKey)
		if err != nil {
			return err
		}
		states, err := tx.EventChains(ctx, chain)
		if err != nil {
			return err
		}
		for _, s := range states {
			c := smartlic.NewChainChecker(s)
			v, err := checkChain(ctx, tx, c, s.Head)
			if err != nil {
				return err
			}
			if !v.OK {
				return smartlic.Errorf(smartlic.EConflict, "", "the event log of %s does not verify, so its head is not signed: %s", v.Name(), v.Problem)
			}
			doc.Heads = append(doc.Heads, c.Head())
		}
		return nil
	})
	if err != nil {
		return smartlic.Envelope{}, err
	}
	return m.seal(smartlic.TypeEventHeads, doc)
}

// verifyScope authorises a verification and resolves its chain: one Smart
// Account's (or the vendor's), or every chain ("") for the operator.
func (m *Manager) verifyScope(ctx context.Context, tx smartlic.Tx, saKey string) (string, error) {
	if saKey == "" {
		return "", m.authorize(ctx, tx, PermOperatorManage, nil, nil)
	}
	return m.eventChain(ctx, tx, saKey)
}

// VerifyChains checks every chain, or the one named, and, given an anchor
// whose signature the caller has checked, holds each chain to its anchored
// head. It needs only a Tx, so `smartlic events verify --db` runs it on a
// database directly, without a server.
//
// The chains come from EventChains, which knows a chain by its head row,
// its entries or its owner: deleting a head row or a whole chain is
// reported, not skipped. A chain the anchor names but the store no longer
// knows at all is reported as deleted.
func VerifyChains(ctx context.Context, tx smartlic.Tx, chain string, anchor *smartlic.EventHeads) ([]smartlic.ChainVerdict, error) {
	states, err := tx.EventChains(ctx, chain)
	if err != nil {
		return nil, err
	}
	anchored := map[string]smartlic.AnchoredHead{}
	if anchor != nil {
		for _, a := range anchor.Heads {
			if chain == "" || a.Chain == chain {
				anchored[a.Chain] = a
			}
		}
		if chain != "" && len(anchored) == 0 {
			return nil, smartlic.Invalid("anchor", "the signed heads of %s hold no head of this chain; take them with `smartlic events head` for this account or for every chain",
				anchor.IssuedAt.Format(time.RFC3339))
		}
		known := map[string]bool{}
		for _, s := range states {
			known[s.Chain] = true
		}
		for _, a := range anchored {
			if !known[a.Chain] {
				states = append(states, smartlic.ChainState{Chain: a.Chain, Account: a.Account})
			}
		}
		slices.SortFunc(states, func(a, b smartlic.ChainState) int { return strings.Compare(a.Chain, b.Chain) })
	}
	verdicts := make([]smartlic.ChainVerdict, 0, len(states))
	for _, s := range states {
		c := smartlic.NewChainChecker(s)
		if a, ok := anchored[s.Chain]; ok {
			c.Anchor(a)
		}
		v, err := checkChain(ctx, tx, c, s.Head)
		if err != nil {
			return nil, err
		}
		verdicts = append(verdicts, v)
	}
	return verdicts, nil
}

// checkChain walks one chain in batches through c and checks it against
// its head (nil when the head row is missing).
func checkChain(ctx context.Context, tx smartlic.Tx, c *smartlic.ChainChecker, head *smartlic.ChainHead) (smartlic.ChainVerdict, error) {
	var after int64
	for {
		batch, err := tx.ChainEvents(ctx, c.Chain(), after, verifyBatch)
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
