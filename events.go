package smartlic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
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

// EventHasher seals one event with the JSON encoding of it made before
// its place in a chain was known: ComputeHash encodes the whole entry, and
// where entries are appended one after another (SQLite's single writer,
// a PostgreSQL registration batch) that encoding was a twelfth of the
// append's time. Seal only hashes the encoding with the place filled in.
type EventHasher struct {
	chain string
	// pre is the encoding up to seq's value, mid from after it up to
	// prev_hash's value; nil when the encoding is not of the expected
	// shape, and Seal then encodes the entry itself.
	pre, mid []byte
}

// The fields ComputeHash's encoding holds around the place in the chain:
// seq follows id and chain, prev_hash and hash come last.
const (
	hashSeqField  = `,"seq":`
	hashPrevField = `,"prev_hash":`
	hashTail      = `,"hash":""}`
)

// NewEventHasher encodes e for sealing in chain. It is the caller's to
// keep e and the hasher together: Seal hashes this encoding, whatever
// event it is given.
func NewEventHasher(e Event, chain string) EventHasher {
	e.Chain, e.Seq, e.PrevHash, e.Hash = chain, 0, "", ""
	e.At = e.At.UTC().Truncate(time.Microsecond)
	b, err := json.Marshal(e)
	if err != nil {
		return EventHasher{}
	}
	// Before seq come only two strings, id and chain, and a '"' inside a
	// JSON string is always escaped: the first `,"seq":0,` is the field.
	i := bytes.Index(b, []byte(hashSeqField+`0,`))
	end := hashPrevField + `""` + hashTail
	if i < 0 || !bytes.HasSuffix(b, []byte(end)) {
		return EventHasher{}
	}
	return EventHasher{
		chain: chain,
		pre:   b[:i+len(hashSeqField)],
		mid:   b[i+len(hashSeqField)+1 : len(b)-len(`""`+hashTail)],
	}
}

// Seal does what e.Seal(head) does, e being the event the hasher was made
// of.
func (h EventHasher) Seal(e *Event, head ChainHead) {
	if h.pre == nil || head.Chain != h.chain || !isLowerHex(head.Hash) {
		e.Seal(head)
		return
	}
	e.Chain = head.Chain
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	d := sha256.New()
	d.Write(h.pre)
	var num [20]byte
	d.Write(strconv.AppendInt(num[:0], e.Seq, 10))
	d.Write(h.mid)
	d.Write([]byte(`"` + head.Hash + `"` + hashTail))
	var sum [sha256.Size]byte
	e.Hash = hex.EncodeToString(d.Sum(sum[:0]))
}

// isLowerHex says s is encoded in JSON as itself between quotes, as a
// hash this package made is (and "" is).
func isLowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
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
	Actor            string    `json:"actor,omitempty"`   // e-mail or actor id
	Type             string    `json:"type,omitempty"`    // exact type, or a prefix ending in '.' ("token.")
	Subject          string    `json:"subject,omitempty"` // id of what changed (an instance's history)
	From             time.Time `json:"from,omitempty"`    // inclusive
	To               time.Time `json:"to,omitempty"`      // exclusive
}

// ChainState is what the store holds of one chain that should exist: one
// with a head row, with entries, or with an owner (a Smart Account, or the
// vendor once any catalogue entry or operator key exists). Verification
// walks every one of them, so deleting a head row or a whole chain cannot
// take a chain out of the check.
type ChainState struct {
	Chain   string
	Account string     // the owning Smart Account's domain; "" for the vendor chain or an account that is gone
	Head    *ChainHead // nil when the chain has no head row
}

// Name is how a person reads the chain: the Smart Account's domain when it
// is known, otherwise the chain id.
func (s ChainState) Name() string {
	if s.Account != "" {
		return s.Account
	}
	return s.Chain
}

// ChainVerdict is the outcome of checking one chain.
type ChainVerdict struct {
	Chain   string `json:"chain"`
	Account string `json:"account,omitempty"` // the Smart Account's domain, for people
	Entries int64  `json:"entries"`
	OK      bool   `json:"ok"`
	BadSeq  int64  `json:"bad_seq,omitempty"` // first entry found altered, missing or out of place
	BadID   string `json:"bad_id,omitempty"`
	Problem string `json:"problem,omitempty"`
	// Anchored is the seq of the entry an external anchor (see
	// EventHeads) vouched for, when the check ran against one.
	Anchored int64 `json:"anchored,omitempty"`
}

// Name is how a person reads the chain: the Smart Account's domain when it
// is known, otherwise the chain id.
func (v ChainVerdict) Name() string {
	if v.Account != "" {
		return v.Account
	}
	return v.Chain
}

// TypeEventHeads is the signed document that anchors the event log
// outside the database.
const TypeEventHeads = "smartlic.event-heads/v1"

// EventHeads is the payload of a TypeEventHeads document: the head of each
// chain at IssuedAt, signed by the manager. Kept where whoever can write the
// database cannot, it turns "the chain links up" into "the chain still
// holds what it held then": a tail rewritten with consistent hashes, or cut
// short, no longer matches the anchored head.
type EventHeads struct {
	IssuedAt time.Time      `json:"issued_at"`
	Heads    []AnchoredHead `json:"heads"`
}

// AnchoredHead is one chain's head in an EventHeads document.
type AnchoredHead struct {
	Chain   string    `json:"chain"`
	Account string    `json:"account,omitempty"` // the Smart Account's domain, for people
	Seq     int64     `json:"seq"`
	Hash    string    `json:"hash"`
	At      time.Time `json:"at"` // when the head entry was written
}

// ChainChecker walks one chain's entries in stored order and reports the
// first that does not fit. Feed it with Next, then call Finish with the head.
type ChainChecker struct {
	chain   string
	account string
	n       int64
	last    Event
	anchor  *AnchoredHead
	verdict *ChainVerdict
}

// NewChainChecker starts checking the chain s names.
func NewChainChecker(s ChainState) *ChainChecker {
	return &ChainChecker{chain: s.Chain, account: s.Account}
}

// Chain is the id of the chain being checked.
func (c *ChainChecker) Chain() string { return c.chain }

// Anchor makes the check also require that the entry at a.Seq still
// carries a.Hash, as it did when a was signed.
func (c *ChainChecker) Anchor(a AnchoredHead) { c.anchor = &a }

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
	case c.anchor != nil && e.Seq == c.anchor.Seq && e.Hash != c.anchor.Hash:
		c.fail(e, "no longer has the hash anchored at %s: the chain was rewritten at or before this entry and its hashes recomputed",
			c.anchor.At.UTC().Format(time.RFC3339))
	}
	if c.verdict != nil {
		return false
	}
	c.last = e
	return true
}

func (c *ChainChecker) fail(e Event, format string, args ...any) {
	c.verdict = c.broken(e.Seq, fmt.Sprintf("entry %d (%s) ", e.Seq, e.ID)+fmt.Sprintf(format, args...))
	c.verdict.BadID = e.ID
}

func (c *ChainChecker) broken(seq int64, problem string) *ChainVerdict {
	v := c.result()
	v.BadSeq, v.Problem = seq, problem
	return &v
}

func (c *ChainChecker) result() ChainVerdict {
	v := ChainVerdict{Chain: c.chain, Account: c.account, Entries: c.n}
	if c.anchor != nil {
		v.Anchored = c.anchor.Seq
	}
	return v
}

// Finish compares the last entry with the recorded head (nil when the
// chain has no head row) and with the anchor, and returns the verdict.
// Only a chain that the caller knows must exist reaches Finish, so a
// missing head or an empty chain is tampering, never a fresh chain.
func (c *ChainChecker) Finish(head *ChainHead) ChainVerdict {
	switch {
	case c.verdict != nil:
		return *c.verdict
	case c.n == 0 && c.anchor != nil:
		return *c.broken(1, fmt.Sprintf("the chain has no entries, though the anchor of %s records %d: the chain was deleted",
			c.anchor.At.UTC().Format(time.RFC3339), c.anchor.Seq))
	case c.n == 0:
		// A head row exists only once an entry does, and an owner only
		// with its first entry.
		return *c.broken(1, "the chain has no entries, yet it has a head or an owner (every Smart Account has at least its account.created entry; "+
			"the vendor chain at least those of the catalogue and operator keys): the chain was deleted")
	case head == nil:
		return *c.broken(c.last.Seq+1, fmt.Sprintf("the chain has %d entries but no head row: the head was deleted, which would hide entries cut off the end", c.n))
	case head.Seq != c.last.Seq || head.Hash != c.last.Hash:
		return *c.broken(c.last.Seq+1, fmt.Sprintf("the chain ends at entry %d but its head records entry %d: entries were removed from the end or the head was altered", c.last.Seq, head.Seq))
	case c.anchor != nil && c.last.Seq < c.anchor.Seq:
		return *c.broken(c.last.Seq+1, fmt.Sprintf("the chain ends at entry %d but the anchor of %s records entry %d: entries were removed from the end and the head moved back",
			c.last.Seq, c.anchor.At.UTC().Format(time.RFC3339), c.anchor.Seq))
	}
	v := c.result()
	v.OK = true
	return v
}

// Head is the last entry checked, as an anchor records it.
func (c *ChainChecker) Head() AnchoredHead {
	return AnchoredHead{Chain: c.chain, Account: c.account, Seq: c.last.Seq, Hash: c.last.Hash, At: c.last.At}
}

// EventService reads and checks the event log.
type EventService interface {
	// ListEvents lists a Smart Account's events (sa = VendorChain for the
	// vendor's), oldest first, filtered.
	ListEvents(ctx context.Context, sa string, f EventFilter, p Page) ([]Event, string, error)
	// VerifyEvents checks the hash chain of a Smart Account, or of every
	// chain when sa is empty.
	VerifyEvents(ctx context.Context, sa string) ([]ChainVerdict, error)
	// EventHeads returns a signed TypeEventHeads document with the head of
	// a Smart Account's chain, or of every chain when sa is empty, for the
	// caller to keep outside the database. It refuses while a chain it
	// would vouch for does not verify.
	EventHeads(ctx context.Context, sa string) (Envelope, error)
	// VerifyEventsAgainst is VerifyEvents that also checks each chain
	// against a TypeEventHeads document this manager signed earlier.
	VerifyEventsAgainst(ctx context.Context, sa string, anchor Envelope) ([]ChainVerdict, error)
}

// EventTx is the storage of the event log.
type EventTx interface {
	// LockEventChain returns the chain's head (Seq 0 for a new chain) and
	// holds it until the transaction ends, so appends are serial per chain.
	LockEventChain(ctx context.Context, chain string) (ChainHead, error)
	// AppendEvent stores a sealed event and moves the chain head to it.
	AppendEvent(ctx context.Context, e Event) error
	// AppendEvents stores sealed consecutive events of one chain (as
	// sealed one after another from its locked head) and moves the head
	// to the last.
	AppendEvents(ctx context.Context, events []Event) error
	// ListEvents lists a chain's events in seq order after the cursor
	// (Page.After is a seq in decimal), filtered.
	ListEvents(ctx context.Context, chain string, f EventFilter, p Page) ([]Event, error)
	// ChainEvents returns up to limit entries of a chain with seq > after,
	// in stored seq order, for verification.
	ChainEvents(ctx context.Context, chain string, after int64, limit int) ([]Event, error)
	// EventChains returns every chain that has a head row, entries or an
	// owner (see ChainState), or only the one named when chain is not
	// empty, ordered by chain.
	EventChains(ctx context.Context, chain string) ([]ChainState, error)
	// ChainSeqs returns the head seq of each chain named (0 for a chain
	// with no entries yet): one indexed read, for telling whether anything
	// was recorded since.
	ChainSeqs(ctx context.Context, chains ...string) ([]int64, error)
}
