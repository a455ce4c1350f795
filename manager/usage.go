package manager

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Ingestion of RUM reports (Smart Licensing Using Policy). Online and
// offline take the same path:
//
//  1. every trust request of the file is verified against the key it
//     names, and the offline trust code inside it against the manager's;
//  2. the signing instances are read (one read transaction), which gives
//     each report the key to verify it with;
//  3. every signature is verified — in parallel, on every core, outside
//     any write transaction — and only then is a payload read and checked;
//  4. one write transaction locks the instances, binds pending keys,
//     claims report ids (a report counts once however often it comes),
//     keeps the newest measurement per instance and license (a late older
//     report never sets usage back), and moves the pools through the same
//     applyUsage the classic authorization uses: one pool, two ways in.
//
// Each instance then gets a signed ACK.

// ReportUsage ingests reports sent online (by a device, or a collector
// forwarding several) and answers an ACK per instance.
func (m *Manager) ReportUsage(ctx context.Context, f smartlic.UsageFile) (smartlic.AckFile, error) {
	if f.Type != smartlic.FileTypeUsage {
		return smartlic.AckFile{}, smartlic.Invalid("type", "must be %q (got %q)", smartlic.FileTypeUsage, f.Type)
	}
	switch {
	case len(f.Reports)+len(f.TrustRequests) == 0:
		return smartlic.AckFile{}, smartlic.Invalid("reports", "send at least one report")
	case len(f.Reports) > smartlic.MaxOnlineReports || len(f.TrustRequests) > smartlic.MaxOnlineReports:
		return smartlic.AckFile{}, smartlic.Invalid("reports", "at most %d reports per online exchange (got %d); send the rest in another", smartlic.MaxOnlineReports, len(f.Reports))
	}
	return m.combiner.submit(ctx, f, m.ingestCombined)
}

// usageUpload is what an offline upload adds to ingestion.
type usageUpload struct {
	sa       smartlic.SmartAccount
	name     string
	uploader string
}

// UploadUsageFile ingests an offline usage file uploaded to a Smart
// Account, keeps the ACK file it answers for download, and returns it.
// Reports of instances in another Smart Account are rejected one by one
// (wrong_smart_account); a file with nothing of this account is refused
// whole.
func (m *Manager) UploadUsageFile(ctx context.Context, saKey, name string, data []byte) (smartlic.AckFile, error) {
	if err := smartlic.ValidateName("file_name", name, 200); err != nil && name != "" {
		return smartlic.AckFile{}, err
	}
	if name == "" {
		name = "usage.json"
	}
	var up usageUpload
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermLicenseManage, saKey)
		up.sa = sa
		return err
	})
	if err != nil {
		return smartlic.AckFile{}, err
	}
	f, err := smartlic.ParseUsageFile(data)
	if err != nil {
		return smartlic.AckFile{}, err
	}
	up.name = name
	if a, ok := smartlic.ActorFrom(ctx); ok {
		up.uploader = a.Email
	}
	res, err := m.ingest(ctx, f, &up, nil)
	if err != nil {
		return smartlic.AckFile{}, err
	}
	return res.file, nil
}

// ListUsageUploads lists the usage files uploaded to a Smart Account.
func (m *Manager) ListUsageUploads(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.UsageUpload, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.UsageUpload
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermLicenseView, saKey)
		if err != nil {
			return err
		}
		out, err = tx.ListUsageUploads(ctx, sa.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(u smartlic.UsageUpload) string { return u.ID })
	return out, next, err
}

// GetUsageUploadAck returns the ACK file an upload got, to download again.
func (m *Manager) GetUsageUploadAck(ctx context.Context, saKey, id string) (smartlic.AckFile, error) {
	var file smartlic.AckFile
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermLicenseView, saKey)
		if err != nil {
			return err
		}
		u, err := tx.GetUsageUpload(ctx, id)
		if err == nil && u.SmartAccountID != sa.ID {
			err = smartlic.NotFound("usage upload %q not found", id)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(u.Ack, &file); err != nil {
			return smartlic.Internal(err, "reading a stored ACK file")
		}
		return nil
	})
	return file, err
}

// reportItem is one report of a file on its way through ingestion.
type reportItem struct {
	index  int
	env    smartlic.Envelope
	report smartlic.RUMReport
	rej    *smartlic.ReportRejection
	hash   string               // of what the instance signed, once verified
	signed bool                 // its signature verified: the instance sent it
	claim  smartlic.ClaimResult // in the write transaction
	dup    bool                 // accepted before: a copy, changes nothing
}

// binding is a verified trust request with an offline trust code.
type binding struct {
	index int
	req   smartlic.TrustRequest
	pub   ed25519.PublicKey
	code  smartlic.TrustCode
}

// instanceBatch is what one instance sent in a file.
type instanceBatch struct {
	id    string
	inst  smartlic.Instance // as read before verification
	sa    smartlic.SmartAccount
	ctx   context.Context   // of the request its first report or trust request came in
	key   ed25519.PublicKey // what its reports were verified with
	bind  *binding
	items []*reportItem
	// filled in the write transaction
	cur *smartlic.Instance // as read under its lock
	ack smartlic.UsageAck
}

type ingestResult struct {
	file  smartlic.AckFile
	ackOf []string // the instance of each of file.Acks
	dup   []bool   // which of the file's reports were accepted before
}

// origins are the requests the parts of a combined ingestion came in
// (usagecombine.go): the context of each report and trust request, so
// that each instance's events name its own request. Nil for one request.
type origins struct {
	reports, trust []context.Context
}

// report is the context report i came in; ctx when o is nil.
func (o *origins) report(ctx context.Context, i int) context.Context {
	if o == nil {
		return ctx
	}
	return o.reports[i]
}

// trustRequest is the context trust request i came in; ctx when o is nil.
func (o *origins) trustRequest(ctx context.Context, i int) context.Context {
	if o == nil {
		return ctx
	}
	return o.trust[i]
}

func (m *Manager) ingest(ctx context.Context, f smartlic.UsageFile, up *usageUpload, from *origins) (ingestResult, error) {
	now := m.clock.Now()
	var rejections []smartlic.FileRejected
	reject := func(kind string, index int, reportID, instanceID, udi string, err error) {
		rejections = append(rejections, smartlic.FileRejected{Index: index, Kind: kind, ReportID: reportID, InstanceID: instanceID, UDI: udi,
			ReportRejection: rejectionOf("", err)})
	}

	// 1. Trust requests: self-signed, carrying an offline trust code.
	bindings := map[string]*binding{}
	for i, env := range f.TrustRequests {
		pub, req, err := openTrustRequest(env)
		if err == nil && req.TrustCode == nil {
			err = smartlic.Invalid("trust_code", "a usage file binds keys with offline trust codes only; a token is presented online (POST /device/v1/trust)")
		}
		var tc smartlic.TrustCode
		if err == nil {
			tc, err = m.openTrustCode(*req.TrustCode)
		}
		if err == nil && tc.UDI != req.UDI {
			err = smartlic.Errorf(smartlic.ENotTrusted, "udi", "the trust code is for %s, not %s", tc.UDI, req.UDI)
		}
		if err == nil && bindings[tc.InstanceID] != nil {
			err = smartlic.Errorf(smartlic.EConflict, "trust_code", "the file binds %s twice", req.UDI)
		}
		if err != nil {
			reject("trust_request", i, "", tc.InstanceID, udiString(req.UDI), err)
			continue
		}
		bindings[tc.InstanceID] = &binding{index: i, req: req, pub: pub, code: tc}
	}

	// 2. The signers.
	items := make([]*reportItem, len(f.Reports))
	batches := map[string]*instanceBatch{}
	for i, env := range f.Reports {
		it := &reportItem{index: i, env: env}
		items[i] = it
		if err := sign.CheckShape(env); err != nil {
			it.rej = ptrTo(rejectionOf("", err))
			continue
		}
		if batches[env.KeyID] == nil {
			batches[env.KeyID] = &instanceBatch{id: env.KeyID, ctx: from.report(ctx, i)}
		}
		batches[env.KeyID].items = append(batches[env.KeyID].items, it)
	}
	// The items hold the envelopes now, and each lets go of its signed
	// bytes once it is verified and decoded: a file's payloads, the bulk of
	// its size, are not kept live through the write.
	reports := len(f.Reports)
	f.Reports = nil
	for id, b := range bindings {
		if batches[id] == nil {
			batches[id] = &instanceBatch{id: id, ctx: from.trustRequest(ctx, b.index)}
		}
		batches[id].bind = b
	}
	// The catalogue (products, license types) and the policies the write
	// will need are read here too, so that the write transaction, on
	// SQLite the one writer every request queues for, does not spend a
	// dozen statements per instance re-reading them: the write sees them
	// as of this read, a few milliseconds earlier, as if the reports had
	// arrived before a catalogue or policy edit committed between the two.
	// What this read finds is kept for the next ingestions, which then
	// read none of it (catalogkeep.go).
	//
	// Online, on a store whose writes run at once (PostgreSQL), all of it
	// happens in the write transaction instead, the instances read under
	// their locks once: a separate read would cost its own BEGIN, reads
	// and COMMIT, round trips each waited for while two cores are busy,
	// and then the write would read the same instances again. Every
	// instance a report names is then locked for the round, the instances
	// its reports are refused for too; a round lasts milliseconds. An
	// uploaded file keeps the separate read: it is one request, and it
	// may name thousands of instances of another account, which it must
	// not hold locked while its signatures are checked.
	var cat *catalogCache
	prepare := func(tx smartlic.Tx, lock bool) error {
		changes, keeps := catalogChanges(m.st)
		cat = m.catalog.start(changes)
		if err := m.readBatches(ctx, tx, cat, batches, lock); err != nil {
			return err
		}
		if after, ok := catalogChanges(m.st); keeps && ok {
			m.catalog.keep(cat, after)
		}
		return checkAndVerify(batches, up, reports, reject, now)
	}
	serial := serialWrites(m.st)
	inWrite := !serial && up == nil
	if !inWrite {
		if err := m.st.Read(ctx, func(tx smartlic.Tx) error { return prepare(tx, false) }); err != nil {
			return ingestResult{}, err
		}
	}

	// 4. One write transaction.
	var file smartlic.AckFile
	var ackOf []string
	// The write runs once (Store.Write; only WriteIn's batches run a
	// write again), so it changes the items' verdicts and the batches'
	// ACKs in place.
	write := func(tx smartlic.Tx) error {
		file = smartlic.AckFile{Type: smartlic.FileTypeAck, IssuedAt: now}
		if up != nil {
			file.SmartAccount, file.UploadID = up.sa.Domain, newID()
		}
		cat.tx = tx
		ids := make([]string, 0, len(batches))
		for id, b := range batches {
			if b.key != nil {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		// Instances are read (on PostgreSQL, locked; online, by prepare)
		// in id order before anything else is touched, so two ingestions
		// of overlapping instances queue rather than deadlock; the pools
		// they move are locked later, and the event chain last (see
		// ingestWrite). A store whose writes run one at a time (SQLite)
		// has no one to queue behind.
		locked := !serial
		if !inWrite {
			insts, err := tx.GetInstances(ctx, ids, locked)
			if err != nil {
				return err
			}
			for i := range insts {
				batches[insts[i].ID].cur = &insts[i]
			}
		}
		events, err := m.ingestWrite(ctx, tx, cat, batches, ids, locked, now)
		if err != nil {
			return err
		}
		// Events last: the event chain is locked after every pool row, as
		// in every other write, and chains in account order, so that two
		// exchanges forwarding instances of the same accounts in opposite
		// orders queue rather than deadlock.
		sort.SliceStable(events, func(i, j int) bool { return chainOf(events[i].e) < chainOf(events[j].e) })
		if err := m.recordAll(tx, events); err != nil {
			return err
		}
		file.Summary = smartlic.UsageSummary{Reports: reports}
		file.Rejections = slices.Clone(rejections)
		for _, it := range items {
			if it.rej != nil {
				file.Rejections = append(file.Rejections, smartlic.FileRejected{Index: it.index, Kind: "report", ReportID: it.report.ReportID,
					InstanceID: clipID(it.env.KeyID), UDI: udiString(it.report.UDI), ReportRejection: *it.rej})
			}
		}
		sort.SliceStable(file.Rejections, func(i, j int) bool {
			a, b := file.Rejections[i], file.Rejections[j]
			if a.Kind != b.Kind {
				return a.Kind == "trust_request"
			}
			return a.Index < b.Index
		})
		for _, r := range file.Rejections {
			if r.Kind == "report" {
				file.Summary.Rejected++
			}
		}
		file.Summary.Accepted = file.Summary.Reports - file.Summary.Rejected
		acks := make([][]byte, 0, len(ids))
		for _, id := range ids {
			b := batches[id]
			if b.ack.InstanceID == "" {
				continue
			}
			file.Summary.Instances++
			file.Summary.Duplicates += b.dupes()
			acks = append(acks, mustJSON(b.ack))
			ackOf = append(ackOf, id)
		}
		if up == nil {
			file.Acks = make([]smartlic.Envelope, len(acks))
			for i, a := range acks {
				file.Acks[i] = smartlic.Envelope{Payload: a} // sealed after the transaction
			}
			return nil
		}
		// An upload keeps its ACK file with it, so the ACKs are signed
		// here, in the transaction that stores them.
		sealed, err := m.sealAll(smartlic.TypeUsageAck, acks)
		if err != nil {
			return err
		}
		file.Acks = sealed
		if err := tx.InsertUsageUpload(ctx, smartlic.UsageUpload{ID: file.UploadID, SmartAccountID: up.sa.ID, FileName: up.name, UploadedBy: up.uploader,
			UploadedAt: now, Summary: file.Summary, Ack: mustJSON(file)}); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "usage.file_uploaded", SmartAccountID: up.sa.ID, Subject: file.UploadID,
			Message: fmt.Sprintf("usage file %q uploaded: %d reports, %d accepted (%d already known), %d rejected, %d instances",
				up.name, file.Summary.Reports, file.Summary.Accepted, file.Summary.Duplicates, file.Summary.Rejected, file.Summary.Instances)})
	}
	// A plain write, not one queued behind its Smart Account's other
	// writes (WriteIn): on PostgreSQL two rounds of one account then claim
	// their reports and read their marks at the same time, each on its
	// own instances, and queue only for the pools and the chain at the
	// end, instead of one whole write waiting for the other.
	err := m.st.Write(ctx, func(tx smartlic.Tx) error {
		// The write's statements that answer nothing but an error (usage
		// lines, marks, times, pools, events) go together, as the reads
		// between them allow: on PostgreSQL a round's write is a few
		// round trips instead of twenty.
		return tx.Pipeline(ctx, func() error {
			if inWrite {
				if err := prepare(tx, true); err != nil {
					return err
				}
			}
			return write(tx)
		})
	})
	if err != nil {
		return ingestResult{}, err
	}
	if up == nil {
		payloads := make([][]byte, len(file.Acks))
		for i, a := range file.Acks {
			payloads[i] = a.Payload
		}
		if file.Acks, err = m.sealAll(smartlic.TypeUsageAck, payloads); err != nil {
			return ingestResult{}, err
		}
	}
	if file.Rejections == nil {
		file.Rejections = []smartlic.FileRejected{}
	}
	dup := make([]bool, len(items))
	for i, it := range items {
		dup[i] = it.dup
	}
	return ingestResult{file: file, ackOf: ackOf, dup: dup}, nil
}

// readBatches reads the instances the batches name, their Smart Accounts,
// and the catalogue and policies their reports will need (into cat); lock
// reads the instances under their locks, in id order, for the write they
// are read in.
func (m *Manager) readBatches(ctx context.Context, tx smartlic.Tx, cat *catalogCache, batches map[string]*instanceBatch, lock bool) error {
	cat.tx = tx
	sas := map[string]smartlic.SmartAccount{}
	ids := make([]string, 0, len(batches))
	for id := range batches {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	insts, err := tx.GetInstances(ctx, ids, lock)
	if err != nil {
		return err
	}
	for i, inst := range insts {
		b := batches[inst.ID]
		b.inst = inst
		if lock {
			b.cur = &insts[i]
		}
		sa, ok := sas[inst.SmartAccountID]
		if !ok {
			if sa, err = tx.GetSmartAccount(ctx, inst.SmartAccountID); err != nil {
				return err
			}
			sas[sa.ID] = sa
		}
		b.sa = sa
		if err := cat.preload(ctx, m, inst); err != nil {
			return err
		}
	}
	return nil
}

// checkAndVerify gives each batch the key its reports are verified with,
// or refuses them (and a trust request) with why not; then verifies every
// signature, in parallel, and decodes and checks the reports whose
// signature verified.
func checkAndVerify(batches map[string]*instanceBatch, up *usageUpload, reports int, reject func(kind string, index int, reportID, instanceID, udi string, err error), now time.Time) error {
	for _, b := range batches {
		var why error
		switch {
		case b.inst.ID == "":
			why = smartlic.Errorf(smartlic.ENotTrusted, "kid", "no instance %q is trusted by this manager; establish trust first (a token online, or a trust file)", clipID(b.id))
		case up != nil && b.inst.SmartAccountID != up.sa.ID:
			why = smartlic.Errorf(smartlic.EWrongAccount, "kid", "%s belongs to another Smart Account than %s", b.inst.UDI, up.sa.Domain)
		case b.inst.Mode != smartlic.ModePolicy:
			why = smartlic.Errorf(smartlic.ENotTrusted, "kid", "%s is registered the classic way; move it to Using Policy first (smartlic device license smart policy-mode)", b.inst.UDI)
		case len(b.inst.PublicKey) > 0:
			b.key = ed25519.PublicKey(b.inst.PublicKey)
			if b.bind != nil && !b.key.Equal(b.bind.pub) {
				reject("trust_request", b.bind.index, "", b.id, udiString(b.bind.req.UDI), smartlic.Errorf(smartlic.ENotTrusted, "public_key",
					"the trust of %s is already bound to another key; generate a new trust file for it to bind a new key", b.inst.UDI))
				b.bind = nil
			}
		case b.bind != nil && b.bind.code.Serial == b.inst.TrustSerial && b.bind.req.UDI == b.inst.UDI:
			b.key = b.bind.pub
		case b.bind != nil:
			why = smartlic.Errorf(smartlic.ENotTrusted, "trust_code", "the trust code of %s was replaced by a newer one; import the current trust file", b.inst.UDI)
		default:
			why = smartlic.Errorf(smartlic.ENotTrusted, "kid", "%s has an offline trust code but no key bound yet: send its trust request with the reports", b.inst.UDI)
		}
		if why != nil {
			for _, it := range b.items {
				it.rej = ptrTo(rejectionOf("", why))
			}
			if b.bind != nil {
				reject("trust_request", b.bind.index, "", b.id, udiString(b.bind.req.UDI), why)
			}
			b.key, b.bind = nil, nil
		}
	}
	if up != nil && reports > 0 {
		mine := false
		for _, b := range batches {
			mine = mine || (b.inst.ID != "" && b.inst.SmartAccountID == up.sa.ID)
		}
		if !mine {
			return smartlic.Errorf(smartlic.EWrongAccount, "file", "nothing in this usage file belongs to Smart Account %s: upload it to the account its product instances are in", up.sa.Domain)
		}
	}

	var work []*reportItem
	keyOf := map[*reportItem]*instanceBatch{}
	for _, b := range batches {
		if b.key == nil {
			continue
		}
		for _, it := range b.items {
			work = append(work, it)
			keyOf[it] = b
		}
	}
	// Runs of reports are verified together (sign.VerifyAll), a run at a
	// time on each core, and only a report whose signature verified is
	// decoded.
	const run = 64
	parallel((len(work)+run-1)/run, func(c int) {
		part := work[c*run : min((c+1)*run, len(work))]
		envs := make([]smartlic.Envelope, len(part))
		keys := make([]ed25519.PublicKey, len(part))
		for i, it := range part {
			envs[i], keys[i] = it.env, keyOf[it].key
		}
		for i, err := range sign.VerifyAll(envs, smartlic.TypeRUMReport, keys) {
			it, b := part[i], keyOf[part[i]]
			if err != nil {
				it.rej = ptrTo(rejectionOf("", err))
				continue
			}
			it.signed = true
			r, err := smartlic.DecodeRUMReport(it.env)
			if err == nil {
				err = r.Validate(now)
			}
			if err == nil && (r.InstanceID != b.inst.ID || r.UDI != b.inst.UDI) {
				err = smartlic.Errorf(smartlic.ESignature, "instance_id", "the report is about %s (%s), not the instance that signed it (%s)", clipID(r.InstanceID), r.UDI, b.inst.UDI)
			}
			it.report, it.hash = r, requestHash(it.env)
			it.env.Payload, it.env.Sig = nil, nil
			if err != nil {
				it.rej = ptrTo(rejectionOf(r.ReportID, err))
			}
		}
	})
	return nil
}

// dupes counts the batch's reports that were accepted before.
func (b *instanceBatch) dupes() int {
	n := 0
	for _, it := range b.items {
		if it.dup {
			n++
		}
	}
	return n
}

// lockIngestPools locks, in (Virtual Account, license type) order, every
// pool row the ingestion may move: the types each instance counts now and
// the types its verified reports measure in use. ingestWrite takes them
// after the claims, then moves the pools of one instance after another;
// without the locks taken here first, two ingestions whose instances
// share pools in opposite orders would each hold a row the other waits
// for, which PostgreSQL ends by aborting one of them (SQLite's single
// writer never interleaves them). Each instance is the one read under its
// lock (instanceBatch.cur).
//
// What the locks read (the counters, and the pools' deposits in the same
// round trip) is what the ledger's first PoolStateOf of each pool would
// read next: the ledger is given it (seed) rather than asking again.
func lockIngestPools(ctx context.Context, ledger *poolLedger, cat *catalogCache, batches map[string]*instanceBatch, ids []string) error {
	var keys []smartlic.PoolKey
	add := func(va, lt string) {
		keys = append(keys, smartlic.PoolKey{VirtualAccountID: va, LicenseTypeID: lt})
	}
	for _, id := range ids {
		b := batches[id]
		if b.cur == nil {
			continue // not found: openInstance refuses its reports
		}
		inst := *b.cur
		for _, u := range inst.Usage {
			add(inst.VirtualAccountID, u.LicenseTypeID)
		}
		product, err := cat.product(ctx, inst.ProductID)
		if err != nil {
			return err
		}
		for _, it := range b.items {
			if it.rej != nil {
				continue
			}
			for _, ms := range it.report.Measurements {
				if ms.Count == 0 || !product.Allows(ms.Tag) {
					continue // moves no pool, or is refused by checkTags
				}
				lt, err := cat.licenseType(ctx, ms.Tag)
				if c := smartlic.ErrorCode(err); c == smartlic.EInvalid || c == smartlic.ENotFound {
					continue // refused by checkTags
				}
				if err != nil {
					return err
				}
				add(inst.VirtualAccountID, lt.ID)
			}
		}
	}
	deposits, counters, err := ledger.Tx.LockPoolStates(ctx, keys) // in order, each once
	if err != nil {
		return err
	}
	ledger.seed(deposits, counters)
	return nil
}

// instanceWrite is one instance's part of an ingestion's write.
type instanceWrite struct {
	b        *instanceBatch
	inst     smartlic.Instance
	product  smartlic.Product
	actor    context.Context
	events   []smartlic.Event
	latest   map[string]smartlic.Measurement // the newest measurement of each tag its new reports hold
	firstUse *time.Time
	bound    bool // its key was bound now, by an offline trust request
	touched  bool // a report of it was accepted now for the first time (gather)
}

// ingestWrite applies the verified reports of the instances ids, in that
// order, inside the write transaction, and fills their ACKs; it returns
// the events to record. The report ids and usage marks of all of them
// are claimed, read and written in a few multi-row statements, and the
// pool counters they move reach the store once per pool (poolLedger): a
// file of thousands of reports costs its writer a handful of statements
// per instance, not two dozen. lockPools says the store needs the pools
// locked in order first (lockIngestPools).
func (m *Manager) ingestWrite(ctx context.Context, tx smartlic.Tx, cat *catalogCache, batches map[string]*instanceBatch, ids []string, lockPools bool, now time.Time) ([]actorEvent, error) {
	var live []*instanceWrite
	var claims []smartlic.UsageClaim
	var claimed []*reportItem
	for _, id := range ids {
		w, err := m.openInstance(ctx, tx, cat, batches[id], now)
		if err != nil {
			return nil, err
		}
		if w == nil {
			continue
		}
		live = append(live, w)
		for _, it := range w.b.items {
			if it.rej == nil {
				claims = append(claims, smartlic.UsageClaim{InstanceID: w.inst.ID, ReportID: it.report.ReportID, Hash: it.hash})
				claimed = append(claimed, it)
			}
		}
	}
	// The claims answer their instances' marks too, in the same round
	// trip: an instance none of whose reports is claimed now has nothing
	// to compare with them.
	var marks map[string][]smartlic.UsageMark
	if len(claims) > 0 {
		results, got, err := tx.ClaimUsageReports(ctx, claims, now)
		if err != nil {
			return nil, err
		}
		for i, it := range claimed {
			it.claim = results[i]
		}
		marks = got
	}
	for _, w := range live {
		w.gather()
	}
	cat.slacs = nil
	if len(live) > 0 {
		if err := cat.readSLACs(ctx, tx, live); err != nil {
			return nil, err
		}
	}
	// The pools are locked (on PostgreSQL) only now, after the claims and
	// reads that touch nothing but the write's own instances: another
	// round of the same account, whose instances are others, has done
	// those meanwhile, and waits for these pools only while this round
	// moves them, appends its events and commits.
	ledger := newPoolLedger(tx)
	if lockPools {
		if err := lockIngestPools(ctx, ledger, cat, batches, ids); err != nil {
			return nil, err
		}
	}
	ltx := catalogTx{Tx: ledger, cat: cat}
	var newMarks []smartlic.InstanceMark
	var events []actorEvent
	var reported []smartlic.Instance
	for _, w := range live {
		ledger.holdUsage(w.inst)
		ms, err := m.finishInstance(ctx, ltx, cat, w, marks[w.inst.ID], now)
		if err != nil {
			return nil, err
		}
		newMarks = append(newMarks, ms...)
		for _, e := range w.events {
			events = append(events, actorEvent{ctx: w.actor, e: e})
		}
		// An instance that bound its key now writes the key and trust
		// with its times; the others, their times only, all together.
		switch {
		case w.bound:
			if err := tx.UpdateReporting(ctx, w.inst); err != nil {
				return nil, err
			}
		case w.touched:
			reported = append(reported, w.inst)
		}
	}
	if err := tx.UpdateReportingTimes(ctx, reported); err != nil {
		return nil, err
	}
	if err := tx.SetUsageMarks(ctx, newMarks); err != nil {
		return nil, err
	}
	if err := ledger.flush(ctx); err != nil {
		return nil, err
	}
	return events, nil
}

// openInstance reads one instance inside the write transaction, checks
// that the trust its reports were verified under still holds, binds an
// offline trust request's key, and refuses the reports whose tags its
// product may not use. A nil answer means every report was refused.
func (m *Manager) openInstance(ctx context.Context, tx smartlic.Tx, cat *catalogCache, b *instanceBatch, now time.Time) (*instanceWrite, error) {
	refuse := func(why error) (*instanceWrite, error) {
		for _, it := range b.items {
			if it.rej == nil {
				it.rej = ptrTo(rejectionOf(it.report.ReportID, why))
			}
		}
		return nil, nil
	}
	if b.bind == nil && !slices.ContainsFunc(b.items, func(it *reportItem) bool { return it.signed }) {
		// Nothing here is the instance's own: whoever sent reports under
		// its id without its key is told why in the file's rejections,
		// and learns nothing more. An ACK would show them its UDI,
		// account, usage and policy, and its times would move a
		// deadline for a report it never made.
		return nil, nil
	}
	if b.cur == nil {
		return refuse(smartlic.Errorf(smartlic.ENotTrusted, "kid", "the instance was removed while its reports were checked"))
	}
	inst := *b.cur // read (on PostgreSQL, under its lock) with the batch's instances
	switch {
	case inst.Mode != smartlic.ModePolicy,
		len(inst.PublicKey) > 0 && !ed25519.PublicKey(inst.PublicKey).Equal(b.key),
		len(inst.PublicKey) == 0 && (b.bind == nil || b.bind.code.Serial != inst.TrustSerial):
		return refuse(smartlic.Errorf(smartlic.ENotTrusted, "kid", "the trust of %s changed while its reports were checked; send them again", inst.UDI))
	}
	w := &instanceWrite{b: b, inst: inst, actor: deviceActor(b.ctx, inst)}
	if len(inst.PublicKey) == 0 {
		w.bound = true
		w.inst.PublicKey, w.inst.TrustedAt = b.key, &now
		if b.bind.req.Hostname != "" {
			w.inst.Hostname = b.bind.req.Hostname
		}
		w.events = append(w.events, smartlic.Event{Type: "instance.trust_bound", SmartAccountID: inst.SmartAccountID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
			Message: fmt.Sprintf("%s bound its key to the offline trust code %s", inst.UDI, inst.TrustSerial)})
	}
	if b.bind != nil {
		// The bound trust code goes back whenever the file asked to bind,
		// so a device that imports only a later upload's ACK gets it too.
		code, err := m.trustCodeOf(ctx, tx, w.inst, now)
		if err != nil {
			return nil, err
		}
		env, err := m.seal(smartlic.TypeTrustCode, code)
		if err != nil {
			return nil, err
		}
		b.ack.TrustCode = &env
	}
	var err error
	if w.product, err = cat.product(ctx, inst.ProductID); err != nil {
		return nil, err
	}
	for _, it := range b.items {
		if it.rej == nil {
			if err := checkTags(ctx, cat, w.product, it.report); err != nil {
				it.rej = ptrTo(rejectionOf(it.report.ReportID, err))
			}
		}
	}
	return w, nil
}

// gather reads the claims of the instance's reports: it answers each in
// the ACK, in the order they came, and keeps the newest measurement of
// each tag among the reports claimed now.
func (w *instanceWrite) gather() {
	b := w.b
	w.latest = map[string]smartlic.Measurement{}
	b.ack.Accepted, b.ack.Rejected = []string{}, []smartlic.ReportRejection{}
	for _, it := range b.items {
		if it.rej == nil && !it.claim.Claimed && it.claim.PriorHash != it.hash {
			it.rej = ptrTo(rejectionOf(it.report.ReportID, smartlic.Errorf(smartlic.EConflict, "report_id",
				"report id %q was used before by another report of this instance", it.report.ReportID)))
		}
		if it.rej != nil {
			// The ACK answers what the instance verifiably sent (a report
			// id read after its signature checked); the file's summary
			// lists everything.
			if it.report.ReportID != "" {
				b.ack.Rejected = append(b.ack.Rejected, *it.rej)
			}
			continue
		}
		b.ack.Accepted = append(b.ack.Accepted, it.report.ReportID)
		if !it.claim.Claimed {
			it.dup = true
			continue
		}
		w.touched = true
		// Each report's newest of a tag, then the newest of those, is
		// the newest of all its measurements of the tag: no map a report.
		for _, ms := range it.report.Measurements {
			ms.KeepIfNewer(w.latest)
			if ms.Count > 0 && (w.firstUse == nil || ms.Start.Before(*w.firstUse)) {
				s := ms.Start
				w.firstUse = &s
			}
		}
	}
}

// finishInstance moves the instance's usage to its newest measurements
// (never back to older ones: marks records the newest seen per tag),
// sets its reporting times (in w.inst, which ingestWrite writes with the
// other instances') and fills its ACK. It returns the marks to store.
func (m *Manager) finishInstance(ctx context.Context, tx smartlic.Tx, cat *catalogCache, w *instanceWrite, marks []smartlic.UsageMark, now time.Time) ([]smartlic.InstanceMark, error) {
	b, inst := w.b, w.inst
	seen := make(map[string]smartlic.UsageMark, len(marks))
	for _, mk := range marks {
		seen[mk.Tag] = mk
	}
	tags := make([]string, 0, len(w.latest))
	for tag := range w.latest {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	changed := map[string]smartlic.Measurement{}
	var newMarks []smartlic.InstanceMark
	for _, tag := range tags {
		ms := w.latest[tag]
		if mk, ok := seen[tag]; ok && !ms.End.After(mk.MeasuredUntil) {
			continue
		}
		newMarks = append(newMarks, smartlic.InstanceMark{InstanceID: inst.ID, UsageMark: smartlic.UsageMark{Tag: tag, MeasuredUntil: ms.End, Count: ms.Count}})
		changed[tag] = ms
	}
	counts := map[string]int64{}
	for _, u := range inst.Usage {
		counts[u.LicenseTag] = u.Count
	}
	lines := make([]smartlic.Usage, 0, len(counts)+len(changed))
	differs := false
	var changedAt *time.Time
	for tag, ms := range changed {
		if counts[tag] != ms.Count {
			differs = true
			if s := ms.Start; changedAt == nil || s.After(*changedAt) {
				changedAt = &s
			}
		}
		counts[tag] = ms.Count
	}
	for tag, n := range counts {
		if n > 0 {
			lines = append(lines, smartlic.Usage{LicenseTag: tag, Count: n})
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].LicenseTag < lines[j].LicenseTag })
	if differs {
		usage, err := m.applyUsage(ctx, tx, inst, lines)
		if err != nil {
			return nil, err
		}
		w.events = append(w.events, smartlic.Event{Type: "instance.usage_changed", SmartAccountID: inst.SmartAccountID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
			Message: fmt.Sprintf("%s reported under policy that it now uses %s", inst.UDI, usageSummary(usage)), Before: eventData(inst.Usage), After: eventData(usage)})
		inst.Usage = usage
		inst.UsageChangedAt = changedAt
	}
	if w.firstUse != nil && (inst.FirstUseAt == nil || w.firstUse.Before(*inst.FirstUseAt)) {
		inst.FirstUseAt = w.firstUse
	}
	// Only what is new moves the instance's times, and with them its next
	// deadline: copies of reports accepted before (a file uploaded again,
	// an exchange repeated after a lost answer) are answered, but they
	// report nothing that was not reported then.
	if w.touched {
		inst.LastReportAt = &now
	}
	if w.touched || w.bound {
		inst.LastAckAt, inst.LastContactAt = &now, now
	}
	w.inst = inst // written by ingestWrite, with the other instances'

	policy, err := cat.policy(ctx, m, inst)
	if err != nil {
		return nil, err
	}
	state := smartlic.ReportingState{LastChangeAt: timeOr(inst.UsageChangedAt), LastReportAt: timeOr(inst.LastReportAt), LastAckAt: timeOr(inst.LastAckAt), FirstUseAt: timeOr(inst.FirstUseAt)}
	for _, u := range inst.Usage {
		lt, err := cat.licenseType(ctx, u.LicenseTag)
		if err != nil {
			return nil, err
		}
		state.Classes = append(state.Classes, smartlic.ClassOf(lt))
	}
	due := policy.NextReport(state, now)
	usage := slices.Clone(inst.Usage)
	if usage == nil {
		usage = []smartlic.Usage{}
	}
	b.ack = smartlic.UsageAck{
		AckID: newID(), InstanceID: inst.ID, UDI: inst.UDI, SmartAccount: b.sa.Domain, IssuedAt: now,
		Accepted: b.ack.Accepted, Rejected: b.ack.Rejected, Policy: policy, NextReportDue: due.Due, TrustCode: b.ack.TrustCode, Usage: usage,
	}
	return newMarks, nil
}

// checkTags refuses a report naming a license the instance's product may
// not consume, or one the catalogue does not have.
func checkTags(ctx context.Context, cat *catalogCache, p smartlic.Product, r smartlic.RUMReport) error {
	for i, ms := range r.Measurements {
		// The field is named only for an error: a file checks a hundred
		// thousand measurements here, inside its write.
		field := func() string { return fmt.Sprintf("measurements[%d].tag", i) }
		if !p.Allows(ms.Tag) {
			return smartlic.Invalid(field(), "product %s may not consume license %q", p.PID, ms.Tag)
		}
		if _, err := cat.licenseType(ctx, ms.Tag); err != nil {
			if smartlic.ErrorCode(err) == smartlic.EInvalid {
				return smartlic.Invalid(field(), "unknown license type %q", ms.Tag)
			}
			return err
		}
	}
	return nil
}

// catalogCache reads each product, license type and Smart Account's
// policies once per ingestion, and not at all while they are kept
// (catalogkeep.go). Its own maps hold what it read.
type catalogCache struct {
	tx        smartlic.Tx
	types     map[string]smartlic.LicenseType
	products  map[string]smartlic.Product
	resolvers map[string]policyResolver
	kept      *catalogSnapshot // nil: nothing kept
	changes   uint64           // the store's count of catalogue changes it began after
	readAt    time.Time        // when this ingestion began to read
	// slacs holds the active SLACs of the write's devices, read in the
	// write transaction (readSLACs); nil outside it.
	slacs map[smartlic.UDI][]smartlic.SLAC
}

// readSLACs reads the active SLACs of the instances' devices in one go,
// for applyUsage's cover check (catalogTx.ActiveSLACsOf).
func (c *catalogCache) readSLACs(ctx context.Context, tx smartlic.Tx, insts []*instanceWrite) error {
	udis := make([]smartlic.UDI, len(insts))
	c.slacs = make(map[smartlic.UDI][]smartlic.SLAC, len(insts))
	for i, w := range insts {
		udis[i] = w.inst.UDI
		c.slacs[w.inst.UDI] = nil
	}
	active, err := tx.ActiveSLACsOfDevices(ctx, udis)
	if err != nil {
		return err
	}
	for _, s := range active {
		c.slacs[s.UDI] = append(c.slacs[s.UDI], s)
	}
	return nil
}

// preload reads what ingesting inst's reports will look up: its product,
// the license types the product may consume, and its account's policies.
// A license type that is not there is left to be looked up (and refused)
// where it is used.
func (c *catalogCache) preload(ctx context.Context, m *Manager, inst smartlic.Instance) error {
	p, err := c.product(ctx, inst.ProductID)
	if err != nil {
		return err
	}
	for _, tag := range p.LicenseTypes {
		if _, err := c.licenseType(ctx, tag); err != nil && smartlic.ErrorCode(err) != smartlic.EInvalid {
			return err
		}
	}
	_, err = c.policy(ctx, m, inst)
	return err
}

// policy is the policy in force for inst (the policy helper's lookup:
// the nearest VA's, else the account's, else the default). Policies read
// before inst's Virtual Account existed are read again.
func (c *catalogCache) policy(ctx context.Context, m *Manager, inst smartlic.Instance) (smartlic.Policy, error) {
	r, ok := c.keptResolver(inst.SmartAccountID)
	if _, known := r.tree.byID[inst.VirtualAccountID]; !ok || !known {
		var err error
		if r, err = m.policies(ctx, c.tx, inst.SmartAccountID); err != nil {
			return smartlic.Policy{}, err
		}
		c.resolvers[inst.SmartAccountID] = r
	}
	return r.forVA(inst.VirtualAccountID), nil
}

func (c *catalogCache) licenseType(ctx context.Context, tag string) (smartlic.LicenseType, error) {
	if lt, ok := c.keptType(tag); ok {
		return lt, nil
	}
	lt, err := getLicenseType(ctx, c.tx, tag, "tag")
	if err == nil {
		c.types[tag] = lt
	}
	return lt, err
}

func (c *catalogCache) product(ctx context.Context, id string) (smartlic.Product, error) {
	if p, ok := c.keptProduct(id); ok {
		return p, nil
	}
	p, err := c.tx.GetProduct(ctx, id)
	if err == nil {
		c.products[id] = p
	}
	return p, err
}

// serialWrites says whether st runs one write transaction at a time, so
// that row locks taken to order concurrent writers order nothing.
func serialWrites(st smartlic.Store) bool {
	s, ok := st.(interface{ SerialWrites() bool })
	return ok && s.SerialWrites()
}

// catalogTx serves applyUsage's product and license type reads from the
// ingestion's catalogCache; everything else goes to the transaction.
type catalogTx struct {
	smartlic.Tx
	cat *catalogCache
}

func (t catalogTx) GetProduct(ctx context.Context, idOrPID string) (smartlic.Product, error) {
	if p, ok := t.cat.keptProduct(idOrPID); ok {
		return p, nil
	}
	return t.Tx.GetProduct(ctx, idOrPID)
}

func (t catalogTx) ActiveSLACsOf(ctx context.Context, udi smartlic.UDI) ([]smartlic.SLAC, error) {
	if s, ok := t.cat.slacs[udi]; ok {
		return s, nil
	}
	return t.Tx.ActiveSLACsOf(ctx, udi)
}

func (t catalogTx) GetLicenseType(ctx context.Context, idOrTag string) (smartlic.LicenseType, error) {
	if lt, ok := t.cat.keptType(idOrTag); ok {
		return lt, nil
	}
	return t.Tx.GetLicenseType(ctx, idOrTag)
}

// sealAll signs payloads, each already encoded as JSON, as documents of
// type typ, on every core.
func (m *Manager) sealAll(typ string, payloads [][]byte) ([]smartlic.Envelope, error) {
	out := make([]smartlic.Envelope, len(payloads))
	errs := make([]error, len(payloads))
	parallel(len(payloads), func(i int) { out[i], errs[i] = m.seal(typ, json.RawMessage(payloads[i])) })
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parallel runs fn(0..n-1) on GOMAXPROCS goroutines. fn must not panic:
// it only verifies, decodes and signs.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// rejectionOf turns an error into a report's rejection.
func rejectionOf(reportID string, err error) smartlic.ReportRejection {
	return smartlic.ReportRejection{ReportID: reportID, Code: smartlic.ErrorCode(err), Field: smartlic.ErrorField(err), Message: smartlic.ErrorMessage(err)}
}

func ptrTo[T any](v T) *T { return &v }

func timeOr(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func udiString(u smartlic.UDI) string {
	if u == (smartlic.UDI{}) {
		return ""
	}
	return clipID(u.String())
}

// clipID shortens an identifier quoted from untrusted input.
func clipID(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// The values are our own types, which always marshal.
		return []byte("null")
	}
	return b
}
