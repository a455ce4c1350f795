package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/smartlic/smartlic"
)

// sqliteRegLinger and sqliteRegLingerFor are how long SQLite's
// registration batches wait for how many registrations to gather while
// registrations keep coming (see chainBatches.drain).
const (
	sqliteRegLinger    = 200 * time.Microsecond
	sqliteRegLingerFor = 4
)

// maxRegistrationBatch bounds the registrations of one PostgreSQL batch,
// so that the arrays sent stay small and a rush still commits steadily.
const maxRegistrationBatch = 128

// registrar is PostgreSQL's registration write path. Every registration
// with one token into one Smart Account updates the same token row and the
// same chain head, so written one per transaction they form a convoy:
// each holds both rows through its COMMIT's WAL flush while the others
// wait. The registrar batches them per chain (see chainBatches) and writes
// a batch in two round trips:
//
//  1. BEGIN; claim the requests (their answers included), insert the
//     instances, both skipping conflicts instead of failing on them; then
//     lock the batch's tokens and the chain head, last.
//  2. Undo what the losers wrote (a claim or instance of a registration
//     refused after all), add the uses taken to each token, append the
//     events sealed on the head, move the head; COMMIT.
//
// Each registration in a batch gets the answer it would have got alone: a
// copy of a written request its stored answer, a UDI already registered a
// conflict, a token used up, revoked or expired its refusal — in the
// batch's order, so exactly max uses registrations get a use. A batch that
// fails as a whole (a deadlock with another writer, a Virtual Account
// deleted meanwhile) is written again one registration per transaction,
// so that one bad registration cannot fail the others.
//
// On SQLite the same queue feeds writeBatchSQLite (registrar_sqlite.go),
// which writes a batch as one write of the group committer.
type registrar struct {
	db      *DB
	batches *chainBatches[*regItem]
	// writeBatch writes one batch in one transaction (see writeBatch
	// and writeBatchSQLite).
	writeBatch func(chain string, items []*regItem) ([]regResult, error)
}

type regItem struct {
	ctx context.Context
	r   smartlic.Registration
	now time.Time
	// hasher is r.Event encoded by the caller's goroutine, so that the
	// batch only hashes it once it knows the event's place.
	hasher smartlic.EventHasher
	out    chan regResult // buffered: answering never blocks the batch
}

type regResult struct {
	prior []byte
	err   error
}

func newRegistrar(db *DB) *registrar {
	g := &registrar{db: db}
	g.writeBatch = g.writeBatchPostgres
	if db.commits != nil {
		g.writeBatch = g.writeBatchSQLite
	}
	g.batches = newChainBatches(maxRegistrationBatch, g.write)
	if db.commits != nil {
		g.batches.linger, g.batches.lingerFor = sqliteRegLinger, sqliteRegLingerFor
	}
	return g
}

// register queues r and waits for its outcome. Once queued, a
// registration is always answered, even when ctx ends meanwhile: walking
// away could leave a device believing a registration failed that in fact
// committed.
func (g *registrar) register(ctx context.Context, r smartlic.Registration, now time.Time) ([]byte, error) {
	if in := r.Instance; len(in.Usage) > 0 || in.AuthorizedAt != nil || in.AuthExpiresAt != nil || in.TrustSerial != "" ||
		in.TrustedAt != nil || in.FirstUseAt != nil || in.LastReportAt != nil || in.LastAckAt != nil || in.UsageChangedAt != nil {
		// The batch's INSERT writes none of these: they are set later in
		// an instance's life, never at registration.
		return nil, smartlic.Internal(errors.New("a registration of an instance that was authorized or reported before"), "registering an instance")
	}
	it := &regItem{ctx: ctx, r: r, now: now, out: make(chan regResult, 1),
		hasher: smartlic.NewEventHasher(r.Event, r.Instance.SmartAccountID)}
	if !g.batches.add(r.Instance.SmartAccountID, it) {
		return nil, smartlic.Internal(errClosed, "registering an instance")
	}
	res := <-it.out
	return res.prior, res.err
}

func (g *registrar) close() { g.batches.close() }

// write writes one batch and answers every item.
func (g *registrar) write(chain string, items []*regItem) {
	defer func() {
		// A bug here must not leave callers waiting forever, nor take
		// the process down from a goroutine no handler can recover.
		if p := recover(); p != nil {
			for _, it := range items {
				select {
				case it.out <- regResult{err: smartlic.Internal(fmt.Errorf("panic: %v", p), "registering an instance")}:
				default: // answered already
				}
			}
		}
	}()
	var batch, later []*regItem
	seen := make(map[string]bool, len(items))
	udis := make(map[smartlic.UDI]bool, len(items))
	for _, it := range items {
		switch {
		case it.ctx.Err() != nil:
			// Its caller gave up before anything was written.
			it.out <- regResult{err: smartlic.Internal(it.ctx.Err(), "waiting for the database")}
		case seen[it.r.Request.Hash], udis[it.r.Instance.UDI]:
			// Two copies of one request, or two requests for one UDI:
			// the second must find what the first left (a claim, an
			// instance, or nothing if the first was refused), so it goes
			// after the batch.
			later = append(later, it)
		default:
			seen[it.r.Request.Hash], udis[it.r.Instance.UDI] = true, true
			batch = append(batch, it)
		}
	}
	if len(batch) > 0 {
		results, err := g.writeBatch(chain, batch)
		if err != nil {
			later = append(batch, later...)
		} else {
			for i, it := range batch {
				it.out <- results[i]
			}
		}
	}
	for _, it := range later {
		prior, err := g.db.registerAlone(it.ctx, it.r, it.now)
		it.out <- regResult{prior: prior, err: err}
	}
}

// The batch's statements take one array per column (unnest), so that their
// text, and pgx's prepared statement, is the same whatever the batch size.
const (
	regClaimsSQL = `INSERT INTO device_requests (hash, instance_id, sent_at, expires_at, answer)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
		ON CONFLICT (sent_at, hash) DO NOTHING RETURNING hash`
	regInstancesSQL = `INSERT INTO instances (id, smart_account_id, va_id, pid, sn, hostname, product_id, mode,
			allow_export_controlled, public_key, registered_at, last_contact_at, authorized_at, auth_expires_at, id_cert_expires_at)
		SELECT id, sa, va, pid, sn, host, product, mode, aec, pk, registered, contact, NULL, NULL, cert
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::boolean[], $10::bytea[], $11::bigint[], $12::bigint[], $13::bigint[])
			AS u(id, sa, va, pid, sn, host, product, mode, aec, pk, registered, contact, cert)
		ON CONFLICT (pid, sn) DO NOTHING RETURNING id`
	// ORDER BY makes the locks come in one order, whichever batch or
	// replica takes them.
	regLockTokensSQL = `SELECT ` + tokenCols + ` FROM tokens WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`
	regUseTokensSQL  = `UPDATE tokens t SET uses = t.uses + u.n FROM unnest($1::text[], $2::bigint[]) AS u(id, n) WHERE t.id = u.id`
	regDropInstances = `DELETE FROM instances WHERE id = ANY($1::text[])`
	regDropClaims    = `DELETE FROM device_requests WHERE (sent_at, hash) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))`
	regEventsSQL     = `INSERT INTO events (` + eventCols + `)
		SELECT id, chain, seq, at, NULLIF(sa, ''), NULLIF(va, ''), type, subject, message, actor_id, actor_email, actor_role,
			request_id, NULLIF(before, ''), NULLIF(after, ''), prev_hash, hash
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
			$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
			AS u(id, chain, seq, at, sa, va, type, subject, message, actor_id, actor_email, actor_role,
			request_id, before, after, prev_hash, hash)`
	// The head moves only from where the batch found it. The COMMIT is
	// sent in the same round trip, before this answer is read, so a head
	// that moved anyway (a bug: the batch holds its lock) must fail the
	// transaction rather than report no row: dividing by the count of
	// rows moved does that.
	regMoveHeadSQL = `WITH moved AS (UPDATE event_chains SET seq = $1, hash = $2 WHERE chain = $3 AND seq = $4 RETURNING 1)
		SELECT 1 / (SELECT count(*)::int FROM moved)`
	regPriorSQL = `SELECT hash, answer FROM device_requests WHERE (sent_at, hash) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))`
)

// writeBatchPostgres writes items, all of one chain, in one transaction
// and says what each gets. An error means nothing was written (or, if the
// connection broke during COMMIT, that nobody knows): every item is to be
// written again on its own, where a copy finds its claim.
func (g *registrar) writeBatchPostgres(chain string, items []*regItem) (results []regResult, err error) {
	// The batch is everyone's: no one caller's context may cut it short.
	ctx := context.Background()
	conn, err := g.db.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		results, err = writeRegistrations(ctx, c, g.db.text[stLockEventChain], chain, items)
		if err != nil && c.PgConn().TxStatus() != 'I' {
			if _, rerr := c.Exec(ctx, "ROLLBACK"); rerr != nil {
				return errors.Join(err, driver.ErrBadConn) // the pool drops the connection
			}
		}
		return err
	})
	return results, err
}

// writeRegistrations is writeBatch on one connection; lockHead is the
// statement that locks the chain head (see LockEventChain).
func writeRegistrations(ctx context.Context, c *pgx.Conn, lockHead, chain string, items []*regItem) ([]regResult, error) {
	n := len(items)
	var (
		hashes, empty, answers           = make([]string, n), make([]string, n), make([]string, n)
		sent, expires                    = make([]int64, n), make([]int64, n)
		ids, sas, vas, pids, sns, hosts  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		products, modes                  = make([]string, n), make([]string, n)
		aecs                             = make([]bool, n)
		keys                             = make([][]byte, n)
		registered, contact, certExpires = make([]int64, n), make([]int64, n), make([]int64, n)
		tokenIDs                         []string
	)
	tokenSeen := map[string]bool{}
	for k, it := range items {
		rq, in := it.r.Request, it.r.Instance
		hashes[k], sent[k], expires[k], answers[k] = rq.Hash, micros(rq.SentAt), micros(rq.ExpiresAt), string(rq.Answer)
		ids[k], sas[k], vas[k], pids[k], sns[k], hosts[k] = in.ID, in.SmartAccountID, in.VirtualAccountID, in.UDI.PID, in.UDI.SN, in.Hostname
		products[k], modes[k], aecs[k], keys[k] = in.ProductID, string(in.Mode), in.AllowExportControlled, in.PublicKey
		registered[k], contact[k], certExpires[k] = micros(in.RegisteredAt), micros(in.LastContactAt), micros(in.IDCertExpiresAt)
		if !tokenSeen[it.r.TokenID] {
			tokenSeen[it.r.TokenID] = true
			tokenIDs = append(tokenIDs, it.r.TokenID)
		}
	}

	// Round trip 1.
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	b.Queue(regClaimsSQL, hashes, empty, sent, expires, answers)
	b.Queue(regInstancesSQL, ids, sas, vas, pids, sns, hosts, products, modes, aecs, keys, registered, contact, certExpires)
	b.Queue(regLockTokensSQL, tokenIDs)
	b.Queue(lockHead, chain)
	br := c.SendBatch(ctx, b)
	claimed, inserted := map[string]bool{}, map[string]bool{}
	tokens := map[string]*smartlic.Token{}
	var head smartlic.ChainHead
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := collectStrings(br, claimed); err != nil {
			return err
		}
		if err := collectStrings(br, inserted); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			tok, err := scanToken(rows)
			if err != nil {
				rows.Close()
				return err
			}
			tokens[tok.ID] = &tok
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		head.Chain = chain
		return br.QueryRow().Scan(&head.Seq, &head.Hash)
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}

	// Who wins, in the batch's order.
	results := make([]regResult, n)
	var dropInstances, dropClaims, priors []string
	var dropSent, priorSent []int64
	var winners []smartlic.Event
	uses := map[string]int64{}
	for k, it := range items {
		id, hash := ids[k], hashes[k]
		switch {
		case !claimed[hash]:
			// A copy of a request written before: its answer, once
			// this batch has committed (its own instance, if one went
			// in because the first copy's was deregistered since, goes).
			priors, priorSent = append(priors, hash), append(priorSent, sent[k])
			if inserted[id] {
				dropInstances = append(dropInstances, id)
			}
			continue
		case !inserted[id]:
			dropClaims, dropSent = append(dropClaims, hash), append(dropSent, sent[k])
			results[k].err = smartlic.Errorf(smartlic.EConflict, "udi", "instance %q already exists", it.r.Instance.UDI.String())
			continue
		}
		tok := tokens[it.r.TokenID]
		var refused error
		if tok == nil {
			refused = errTokenUnknown()
		} else {
			t := *tok
			t.Uses += uses[tok.ID]
			refused = t.UsableErr(it.now)
		}
		if refused != nil {
			dropClaims, dropSent, dropInstances = append(dropClaims, hash), append(dropSent, sent[k]), append(dropInstances, id)
			results[k].err = refused
			continue
		}
		uses[tok.ID]++
		e := it.r.Event
		it.hasher.Seal(&e, head)
		head = smartlic.ChainHead{Chain: chain, Seq: e.Seq, Hash: e.Hash}
		winners = append(winners, e)
	}

	// Round trip 2.
	b = &pgx.Batch{}
	if len(dropInstances) > 0 {
		b.Queue(regDropInstances, dropInstances)
	}
	if len(dropClaims) > 0 {
		b.Queue(regDropClaims, dropSent, dropClaims)
	}
	if len(uses) > 0 {
		tids, counts := make([]string, 0, len(uses)), make([]int64, 0, len(uses))
		for id, k := range uses {
			tids, counts = append(tids, id), append(counts, k)
		}
		b.Queue(regUseTokensSQL, tids, counts)
	}
	if len(winners) > 0 {
		b.Queue(regEventsSQL, eventColumns(winners)...)
		first := winners[0]
		b.Queue(regMoveHeadSQL, head.Seq, head.Hash, chain, first.Seq-1)
	}
	b.Queue("COMMIT")
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}

	if len(priors) > 0 {
		answers, err := readPriors(ctx, c, priorSent, priors)
		if err != nil {
			return nil, err
		}
		for k := range items {
			if !claimed[hashes[k]] {
				if a := answers[hashes[k]]; a != nil {
					results[k].prior = a
				} else {
					results[k].err = smartlic.Errorf(smartlic.EConflict, "", "this request is being answered; retry")
				}
			}
		}
	}
	return results, nil
}

// collectStrings reads the next result of br, one text column, into set.
func collectStrings(br pgx.BatchResults, set map[string]bool) error {
	rows, err := br.Query()
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

// eventColumns are the arguments of regEventsSQL: one array per column.
func eventColumns(es []smartlic.Event) []any {
	n := len(es)
	cols := make([][]string, 15) // the text columns, in regEventsSQL's order bar seq and at
	for i := range cols {
		cols[i] = make([]string, n)
	}
	seqs, ats := make([]int64, n), make([]int64, n)
	for k, e := range es {
		seqs[k], ats[k] = e.Seq, micros(e.At)
		for i, v := range []string{e.ID, e.Chain, e.SmartAccountID, e.VirtualAccountID, e.Type, e.Subject, e.Message,
			e.ActorID, e.ActorEmail, e.ActorRole, e.RequestID, string(e.Before), string(e.After), e.PrevHash, e.Hash} {
			cols[i][k] = v
		}
	}
	return []any{cols[0], cols[1], seqs, ats, cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9],
		cols[10], cols[11], cols[12], cols[13], cols[14]}
}

// readPriors reads the stored answers of requests claimed before.
func readPriors(ctx context.Context, c *pgx.Conn, sent []int64, hashes []string) (map[string][]byte, error) {
	rows, err := c.Query(ctx, regPriorSQL, sent, hashes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var h string
		var a sql.NullString
		if err := rows.Scan(&h, &a); err != nil {
			return nil, err
		}
		if a.Valid {
			out[h] = []byte(a.String)
		}
	}
	return out, rows.Err()
}
