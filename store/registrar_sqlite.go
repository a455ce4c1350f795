package store

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"strings"

	"github.com/smartlic/smartlic"
)

// SQLite's registrations go through the registrar too. Its one writer
// runs writes one after another, so there is no convoy to avoid; what a
// registration costs there is the writer's time, and most of that was
// statements: nine per registration (its savepoint, the claim, the
// instance, the token, the chain head twice, the event, the release),
// each paying database/sql's and the driver's overhead and SQLite's
// statement start and halt. Written as a batch, a chain's waiting
// registrations take about nine statements in all, whatever their number,
// and one savepoint of the group commit: the rows and index entries
// written are the same.

// maxRowsPerInsert bounds the rows of one multi-row INSERT. Batches are
// written in chunks of a power of two rows up to it, so that the statement
// texts, each prepared once and kept by the connection (see stmtcache.go),
// are few: seven sizes of each.
const maxRowsPerInsert = 64

// writeBatchSQLite writes items, all of one chain, as one write of the
// group committer and says what each gets. An error means nothing was
// written: every item is to be written again on its own.
func (g *registrar) writeBatchSQLite(chain string, items []*regItem) ([]regResult, error) {
	// The batch is everyone's: no one caller's context may cut it short.
	ctx := context.Background()
	var results []regResult
	err := g.db.commits.write(ctx, func(t smartlic.Tx) error {
		var err error
		results, err = writeRegistrationsSQLite(ctx, t.(*tx), chain, items)
		return err
	})
	return results, err
}

// writeRegistrationsSQLite is writeBatchSQLite inside the writer's
// transaction. The outcome of each registration is the one it would have
// had written alone, in the batch's order: a copy of a request written
// before gets that request's stored answer, a UDI already registered a
// conflict (and leaves no claim), a token used up, revoked or expired its
// refusal, so that exactly max uses registrations get a use.
func writeRegistrationsSQLite(ctx context.Context, t *tx, chain string, items []*regItem) ([]regResult, error) {
	n := len(items)
	results := make([]regResult, n)
	claimed := make(map[string]bool, n)

	// The claims: a request claimed before is a copy.
	err := inChunks(n, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*5)
		for _, it := range items[lo:hi] {
			rq := it.r.Request
			args = append(args, rq.Hash, rq.InstanceID, micros(rq.SentAt), micros(rq.ExpiresAt), nullText(rq.Answer))
		}
		return t.addStrings(ctx, claimed, `INSERT INTO device_requests (hash, instance_id, sent_at, expires_at, answer) VALUES `+
			valueRows(hi-lo, 5)+` ON CONFLICT (sent_at, hash) DO NOTHING RETURNING hash`, args)
	})
	if err != nil {
		return nil, smartlic.Internal(err, "recording device requests")
	}
	var fresh []*regItem
	for _, it := range items {
		if claimed[it.r.Request.Hash] {
			fresh = append(fresh, it)
		}
	}

	// The instances of the claimed requests: a UDI registered already is
	// skipped, and its request loses.
	inserted := make(map[string]bool, len(fresh))
	err = inChunks(len(fresh), func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*15)
		for _, it := range fresh[lo:hi] {
			in := it.r.Instance
			args = append(args, in.ID, in.SmartAccountID, in.VirtualAccountID, in.UDI.PID, in.UDI.SN, in.Hostname,
				in.ProductID, string(in.Mode), in.AllowExportControlled, in.PublicKey, micros(in.RegisteredAt),
				micros(in.LastContactAt), nullMicros(in.AuthorizedAt), nullMicros(in.AuthExpiresAt), micros(in.IDCertExpiresAt))
		}
		return t.addStrings(ctx, inserted, `INSERT INTO instances (id, smart_account_id, va_id, pid, sn, hostname, product_id, mode,
			allow_export_controlled, public_key, registered_at, last_contact_at, authorized_at, auth_expires_at, id_cert_expires_at)
			VALUES `+valueRows(hi-lo, 15)+` ON CONFLICT (pid, sn) DO NOTHING RETURNING id`, args)
	})
	if err != nil {
		return nil, smartlic.Internal(err, "storing instances")
	}

	// The tokens, as they are now: no other writer runs meanwhile.
	tokens := map[string]*smartlic.Token{}
	var tokenIDs []string
	for _, it := range fresh {
		if id := it.r.TokenID; inserted[it.r.Instance.ID] && tokens[id] == nil {
			tokens[id] = &smartlic.Token{}
			tokenIDs = append(tokenIDs, id)
		}
	}
	if len(tokenIDs) > 0 {
		clear(tokens)
		rows, err := t.queryBuilt(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id IN (`+inList(len(tokenIDs))+`)`, anys(tokenIDs)...)
		if err != nil {
			return nil, smartlic.Internal(err, "reading tokens")
		}
		for rows.Next() {
			tok, err := scanToken(rows)
			if err != nil {
				rows.Close()
				return nil, smartlic.Internal(err, "reading tokens")
			}
			tokens[tok.ID] = &tok
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, smartlic.Internal(err, "reading tokens")
		}
	}

	// Who wins, in the batch's order.
	index := make(map[*regItem]int, n)
	for k, it := range items {
		index[it] = k
	}
	var (
		dropInstances []string
		dropClaims    []smartlic.SeenRequest
		winners       []smartlic.Event
		head          smartlic.ChainHead
		uses          = map[string]int64{}
		useOrder      []string
	)
	for _, it := range fresh {
		k, in := index[it], it.r.Instance
		if !inserted[in.ID] {
			dropClaims = append(dropClaims, it.r.Request)
			results[k].err = smartlic.Errorf(smartlic.EConflict, "udi", "instance %q already exists", in.UDI.String())
			continue
		}
		var refused error
		if tok := tokens[it.r.TokenID]; tok == nil {
			refused = errTokenUnknown()
		} else {
			tk := *tok
			tk.Uses += uses[tok.ID]
			refused = tk.UsableErr(it.now)
		}
		if refused != nil {
			dropClaims, dropInstances = append(dropClaims, it.r.Request), append(dropInstances, in.ID)
			results[k].err = refused
			continue
		}
		if uses[it.r.TokenID] == 0 {
			useOrder = append(useOrder, it.r.TokenID)
		}
		uses[it.r.TokenID]++
		if len(winners) == 0 {
			if head, err = chainHead(ctx, t, chain); err != nil {
				return nil, err
			}
		}
		e := it.r.Event
		it.hasher.Seal(&e, head)
		head = smartlic.ChainHead{Chain: chain, Seq: e.Seq, Hash: e.Hash}
		winners = append(winners, e)
	}

	if len(dropInstances) > 0 {
		if _, err := t.execBuilt(ctx, `DELETE FROM instances WHERE id IN (`+inList(len(dropInstances))+`)`, anys(dropInstances)...); err != nil {
			return nil, smartlic.Internal(err, "dropping refused instances")
		}
	}
	if len(dropClaims) > 0 {
		q, args := requestKeys(dropClaims)
		if _, err := t.execBuilt(ctx, `DELETE FROM device_requests WHERE `+q, args...); err != nil {
			return nil, smartlic.Internal(err, "dropping refused device requests")
		}
	}
	for _, id := range useOrder {
		if _, err := t.execBuilt(ctx, `UPDATE tokens SET uses = uses + ? WHERE id = ?`, uses[id], id); err != nil {
			return nil, smartlic.Internal(err, "using a token")
		}
	}
	if err := t.AppendEvents(ctx, winners); err != nil {
		return nil, err
	}

	// The copies' answers.
	var priors []smartlic.SeenRequest
	for _, it := range items {
		if !claimed[it.r.Request.Hash] {
			priors = append(priors, it.r.Request)
		}
	}
	if len(priors) > 0 {
		answers := map[string][]byte{}
		q, args := requestKeys(priors)
		rows, err := t.queryBuilt(ctx, `SELECT hash, answer FROM device_requests WHERE `+q, args...)
		if err != nil {
			return nil, smartlic.Internal(err, "reading device requests")
		}
		for rows.Next() {
			var h string
			var a sql.NullString
			if err := rows.Scan(&h, &a); err != nil {
				rows.Close()
				return nil, smartlic.Internal(err, "reading device requests")
			}
			if a.Valid {
				answers[h] = []byte(a.String)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, smartlic.Internal(err, "reading device requests")
		}
		for k, it := range items {
			if h := it.r.Request.Hash; !claimed[h] {
				if a := answers[h]; a != nil {
					results[k].prior = a
				} else {
					results[k].err = smartlic.Errorf(smartlic.EConflict, "", "this request is being answered; retry")
				}
			}
		}
	}
	return results, nil
}

// requestKeys is a condition matching the device requests rs by their
// key, and its arguments. SQLite searches the key for each term of an OR;
// for a row value IN (VALUES ...) list it scans the table.
func requestKeys(rs []smartlic.SeenRequest) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 2*len(rs))
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("(sent_at = ? AND hash = ?)")
		args = append(args, micros(r.SentAt), r.Hash)
	}
	return b.String(), args
}

// chainHead reads the chain's head. SQLite's writes run one at a time, so
// reading it is enough: LockEventChain's upsert would write the head's
// page once more, only to take a lock nobody contends for. A chain
// without a head row yet gets one that way.
func chainHead(ctx context.Context, t *tx, chain string) (smartlic.ChainHead, error) {
	h := smartlic.ChainHead{Chain: chain}
	err := t.queryRowBuilt(ctx, `SELECT seq, hash FROM event_chains WHERE chain = ?`, chain).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return t.LockEventChain(ctx, chain)
	}
	if err != nil {
		return h, smartlic.Internal(err, "reading the event log head")
	}
	return h, nil
}

// inChunks calls fn on [lo, hi) ranges covering n items, each of a power
// of two items up to maxRowsPerInsert, largest first.
func inChunks(n int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		hi := lo + pow2Size(n-lo, maxRowsPerInsert)
		if err := fn(lo, hi); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// pow2Chunks is slices.Chunk in chunks of a power of two items up to max
// (a power of two), largest first. A multi-row statement's text varies
// with its rows, and each text is prepared once per connection and kept
// (pgx's statement cache; stmtcache.go on SQLite): rounds of 90 to 130
// reports written as one statement each made as many texts, most of them
// new to the connection that ran them, each a further round trip and a
// fresh parse and plan. In powers of two there are a handful.
func pow2Chunks[T any](s []T, max int) iter.Seq[[]T] {
	return func(yield func([]T) bool) {
		for lo := 0; lo < len(s); {
			hi := lo + pow2Size(len(s)-lo, max)
			if !yield(s[lo:hi:hi]) {
				return
			}
			lo = hi
		}
	}
}

// pow2Size is the largest power of two up to max (a power of two) that is
// at most n (n > 0).
func pow2Size(n, max int) int {
	size := max
	for size > n {
		size /= 2
	}
	return size
}

// valueRows is "(?, ?), (?, ?)" for rows rows of cols columns.
func valueRows(rows, cols int) string {
	row := "(" + inList(cols) + ")"
	var b strings.Builder
	b.Grow(rows * (len(row) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// addStrings runs a statement returning one text column and adds its
// values to set.
func (t *tx) addStrings(ctx context.Context, set map[string]bool, q string, args []any) error {
	rows, err := t.queryBuilt(ctx, q, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		set[s] = true
	}
	rows.Close()
	return rows.Err()
}
