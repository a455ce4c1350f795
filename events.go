package smartlic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// VendorChain is the event chain of changes that belong to no Smart
// Account: the catalogue and operator keys.
const VendorChain = "vendor"

// Event is one entry of the append-only event log. Entries form a hash
// chain per Smart Account (and one for the vendor): each carries the hash
// of the one before it, so editing, removing or reordering an entry breaks
// every hash after it.
type Event struct {
	ID               string          `json:"id"`
	Chain            string          `json:"chain"` // Smart Account id or VendorChain
	Seq              int64           `json:"seq"`   // 1, 2, 3… within the chain
	At               time.Time       `json:"at"`
	SmartAccountID   string          `json:"smart_account_id,omitempty"`
	VirtualAccountID string          `json:"virtual_account_id,omitempty"`
	Type             string          `json:"type"`    // e.g. "va.created"
	Subject          string          `json:"subject"` // id of what changed
	Message          string          `json:"message"`
	ActorID          string          `json:"actor_id,omitempty"`
	ActorEmail       string          `json:"actor_email,omitempty"`
	ActorRole        string          `json:"actor_role,omitempty"`
	RequestID        string          `json:"request_id,omitempty"`
	Before           json.RawMessage `json:"before,omitempty"`
	After            json.RawMessage `json:"after,omitempty"`
	PrevHash         string          `json:"prev_hash"`
	Hash             string          `json:"hash"`
}

// ComputeHash returns the hash an event must carry: SHA-256 over the
// canonical JSON of every field but Hash (which includes PrevHash). At is
// taken at microsecond precision, the precision stores keep.
func (e Event) ComputeHash() string {
	e.Hash = ""
	e.At = e.At.UTC().Truncate(time.Microsecond)
	b, err := json.Marshal(e)
	if err != nil {
		// Only RawMessage fields can fail to marshal, and the manager
		// fills them from json.Marshal itself.
		return "unhashable: " + err.Error()
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Seal sets Seq, PrevHash and Hash to append e after the chain head.
func (e *Event) Seal(head ChainHead) {
	e.Chain = head.Chain
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = e.ComputeHash()
}

// ChainHead is the last entry of a chain as the store records it beside the
// entries, so that cutting entries off the end is noticed too.
type ChainHead struct {
	Chain string `json:"chain"`
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
}

// EventFilter narrows an event listing. Zero values match everything.
type EventFilter struct {
	VirtualAccountID string    `json:"virtual_account_id,omitempty"`
	Actor            string    `json:"actor,omitempty"` // e-mail or actor id
	Type             string    `json:"type,omitempty"`  // exact type, or a prefix ending in '.' ("token.")
	From             time.Time `json:"from,omitempty"`  // inclusive
	To               time.Time `json:"to,omitempty"`    // exclusive
}

// ChainVerdict is the outcome of checking one chain.
type ChainVerdict struct {
	Chain   string `json:"chain"`
	Entries int64  `json:"entries"`
	OK      bool   `json:"ok"`
	BadSeq  int64  `json:"bad_seq,omitempty"` // first entry found altered, missing or out of place
	BadID   string `json:"bad_id,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// ChainChecker walks one chain's entries in stored order and reports the
// first that does not fit. Feed it with Next, then call Finish with the head.
type ChainChecker struct {
	chain   string
	n       int64
	last    Event
	verdict *ChainVerdict
}

// NewChainChecker starts checking chain.
func NewChainChecker(chain string) *ChainChecker { return &ChainChecker{chain: chain} }

// Next checks the next stored entry. It returns false once a problem is
// found; further entries are then ignored.
func (c *ChainChecker) Next(e Event) bool {
	if c.verdict != nil {
		return false
	}
	c.n++
	want := c.last.Seq + 1
	switch {
	case e.Chain != c.chain:
		c.fail(e, "belongs to chain %q", e.Chain)
	case e.Seq < want:
		c.fail(e, "is out of order: seq %d after seq %d", e.Seq, c.last.Seq)
	case e.Seq > want:
		c.fail(e, "follows seq %d: entries %d..%d were removed", c.last.Seq, want, e.Seq-1)
	case e.PrevHash != c.last.Hash:
		c.fail(e, "does not link to the entry before it (prev_hash mismatch): an entry was removed, inserted or reordered")
	case e.ComputeHash() != e.Hash:
		c.fail(e, "was altered after it was written (hash mismatch)")
	}
	if c.verdict != nil {
		return false
	}
	c.last = e
	return true
}

func (c *ChainChecker) fail(e Event, format string, args ...any) {
	c.verdict = &ChainVerdict{Chain: c.chain, Entries: c.n, BadSeq: e.Seq, BadID: e.ID, Problem: fmt.Sprintf("entry %d (%s) ", e.Seq, e.ID) + fmt.Sprintf(format, args...)}
}

// Finish compares the last entry with the recorded head and returns the
// verdict.
func (c *ChainChecker) Finish(head ChainHead) ChainVerdict {
	if c.verdict != nil {
		return *c.verdict
	}
	if head.Seq != c.last.Seq || head.Hash != c.last.Hash {
		return ChainVerdict{Chain: c.chain, Entries: c.n, BadSeq: c.last.Seq + 1,
			Problem: fmt.Sprintf("the chain ends at entry %d but its head records entry %d: entries were removed from the end or the head was altered", c.last.Seq, head.Seq)}
	}
	return ChainVerdict{Chain: c.chain, Entries: c.n, OK: true}
}

// EventService reads and checks the event log.
type EventService interface {
	// ListEvents lists a Smart Account's events (sa = VendorChain for the
	// vendor's), oldest first, filtered.
	ListEvents(ctx context.Context, sa string, f EventFilter, p Page) ([]Event, string, error)
	// VerifyEvents checks the hash chain of a Smart Account, or of every
	// chain when sa is empty.
	VerifyEvents(ctx context.Context, sa string) ([]ChainVerdict, error)
}

// EventTx is the storage of the event log.
type EventTx interface {
	// LockEventChain returns the chain's head (Seq 0 for a new chain) and
	// holds it until the transaction ends, so appends are serial per chain.
	LockEventChain(ctx context.Context, chain string) (ChainHead, error)
	// AppendEvent stores a sealed event and moves the chain head to it.
	AppendEvent(ctx context.Context, e Event) error
	// ListEvents lists a chain's events in seq order after the cursor
	// (Page.After is a seq in decimal), filtered.
	ListEvents(ctx context.Context, chain string, f EventFilter, p Page) ([]Event, error)
	// ChainEvents returns up to limit entries of a chain with seq > after,
	// in stored seq order, for verification.
	ChainEvents(ctx context.Context, chain string, after int64, limit int) ([]Event, error)
	// EventChains returns every chain's recorded head.
	EventChains(ctx context.Context) ([]ChainHead, error)
}
