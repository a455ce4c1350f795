package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunUsage runs the conformance tests of Smart Licensing Using Policy's
// storage: the reporting columns of instances, report ids, usage marks and
// uploaded usage files. open returns a new, empty store for each subtest.
func RunUsage(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"InstancePolicyColumns", testInstancePolicyColumns},
		{"UsageReportsAndMarks", testUsageReportsAndMarks},
		{"UsageClaimsAndMarksInBulk", testUsageClaimsAndMarksInBulk},
		{"ChangeUsageInBulk", testChangeUsageInBulk},
		{"UpdateReportingTimesInBulk", testUpdateReportingTimesInBulk},
		{"AppendEventsInBulk", testAppendEventsInBulk},
		{"GetInstancesInBulk", testGetInstancesInBulk},
		{"UsageUploads", testUsageUploads},
		{"Pipeline", testPipeline},
	})
}

// testInstancePolicyColumns: the trust and reporting times of a
// policy-mode instance survive insert, update and every way of reading it.
func testInstancePolicyColumns(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	inst := f.newInstance(sa, va, p, "POL1")
	inst.Mode, inst.PublicKey, inst.AuthorizedAt, inst.AuthExpiresAt = smartlic.ModePolicy, nil, nil, nil
	inst.TrustSerial, inst.TrustedAt = "serial-1", ptr(f.now)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, inst) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetInstance(ctx, inst.ID)
		wantEqual(t, "pending trust", got, inst)
		return err
	})

	inst.PublicKey = []byte("pinned-key")
	inst.FirstUseAt = ptr(f.now.Add(-48 * time.Hour))
	inst.LastReportAt, inst.LastAckAt = ptr(f.now.Add(time.Hour)), ptr(f.now.Add(time.Hour+time.Microsecond))
	inst.UsageChangedAt = ptr(f.now.Add(-time.Hour))
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateInstance(ctx, inst) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetInstanceByUDI(ctx, inst.UDI)
		if err != nil {
			return err
		}
		wantEqual(t, "after the first report", got, inst)
		list, err := tx.ListInstances(ctx, va.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 1 {
			t.Fatalf("listed %d instances, want 1", len(list))
		}
		wantEqual(t, "listed", list[0], inst)
		return nil
	})

	// UpdateReporting writes the reporting columns and nothing else.
	rep := inst
	rep.Hostname, rep.PublicKey = "sw-renamed", []byte("another-key")
	rep.LastContactAt, rep.TrustedAt = f.now.Add(2*time.Hour), ptr(f.now.Add(2*time.Hour))
	rep.FirstUseAt, rep.LastReportAt, rep.LastAckAt, rep.UsageChangedAt = ptr(f.now.Add(-72*time.Hour)), ptr(f.now.Add(3*time.Hour)), ptr(f.now.Add(3*time.Hour)), nil
	sent := rep
	sent.Mode, sent.TrustSerial, sent.RegisteredAt = smartlic.ModeRegistered, "serial-2", f.now.Add(time.Hour) // not reporting: not written
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateReporting(ctx, sent) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetInstance(ctx, inst.ID)
		wantEqual(t, "after UpdateReporting", got, rep)
		return err
	})
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		missing := rep
		missing.ID = newID(t)
		return tx.UpdateReporting(ctx, missing)
	})
	wantCode(t, err, smartlic.ENotFound, "")
}

// testUsageReportsAndMarks: a report id is claimed once per instance, a
// rolled-back claim leaves nothing, marks are replaced per tag, and both
// go with their instance.
func testUsageReportsAndMarks(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	a := f.instance(sa, va, p, "POL1")
	b := f.instance(sa, va, p, "POL2")
	claim := func(inst, id, hash string) (string, bool) {
		var prior string
		var ok bool
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			var err error
			res, _, err := tx.ClaimUsageReports(ctx, []smartlic.UsageClaim{{InstanceID: inst, ReportID: id, Hash: hash}}, f.now)
			if err == nil {
				prior, ok = res[0].PriorHash, res[0].Claimed
			}
			return err
		})
		return prior, ok
	}
	if _, ok := claim(a.ID, "r1", "h1"); !ok {
		t.Fatal("a new report id was not claimed")
	}
	if prior, ok := claim(a.ID, "r1", "h1"); ok || prior != "h1" {
		t.Fatalf("a copy: ok %v prior %q", ok, prior)
	}
	if prior, ok := claim(a.ID, "r1", "other"); ok || prior != "h1" {
		t.Fatalf("another report under a used id: ok %v prior %q", ok, prior)
	}
	if _, ok := claim(b.ID, "r1", "h1"); !ok {
		t.Fatal("report ids are per instance, but another instance's r1 was refused")
	}
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		if res, _, err := tx.ClaimUsageReports(ctx, []smartlic.UsageClaim{{InstanceID: a.ID, ReportID: "r2", Hash: "h2"}}, f.now); err != nil || !res[0].Claimed {
			t.Fatalf("claim r2: %v %v", res, err)
		}
		return smartlic.Invalid("x", "refused")
	})
	wantCode(t, err, smartlic.EInvalid, "x")
	if _, ok := claim(a.ID, "r2", "h2"); !ok {
		t.Fatal("a claim that was rolled back still counts")
	}
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, _, err := tx.ClaimUsageReports(ctx, []smartlic.UsageClaim{{InstanceID: newID(t), ReportID: "r1", Hash: "h1"}}, f.now)
		return err
	})
	if err == nil {
		t.Fatal("a report of a missing instance was recorded")
	}

	marks := func(inst string) (out []smartlic.UsageMark) {
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			var err error
			all, err := tx.UsageMarksOf(ctx, []string{inst})
			out = all[inst]
			return err
		})
		return out
	}
	if m := marks(a.ID); len(m) != 0 {
		t.Fatalf("marks of a new instance: %+v", m)
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		for _, m := range []smartlic.UsageMark{
			{Tag: "b-tag", MeasuredUntil: f.now, Count: 1},
			{Tag: "a-tag", MeasuredUntil: f.now, Count: 2},
			{Tag: "b-tag", MeasuredUntil: f.now.Add(time.Hour), Count: 3},
		} {
			if err := tx.SetUsageMarks(ctx, []smartlic.InstanceMark{{InstanceID: a.ID, UsageMark: m}}); err != nil {
				return err
			}
		}
		return nil
	})
	wantEqual(t, "marks", marks(a.ID), []smartlic.UsageMark{
		{Tag: "a-tag", MeasuredUntil: f.now, Count: 2},
		{Tag: "b-tag", MeasuredUntil: f.now.Add(time.Hour), Count: 3},
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteInstance(ctx, a.ID) })
	if m := marks(a.ID); len(m) != 0 {
		t.Fatalf("marks outlived their instance: %+v", m)
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, a) })
	if _, ok := claim(a.ID, "r1", "h1"); !ok {
		t.Fatal("report ids outlived their instance")
	}
}

// testUsageClaimsAndMarksInBulk: claims and marks of many instances in one
// call, more than one statement's worth, answer each claim as one at a
// time would: ids recorded before or earlier in the list are not claimed
// again and carry the first hash; a list naming a missing instance
// records nothing.
func testUsageClaimsAndMarksInBulk(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	insts := []smartlic.Instance{f.instance(sa, va, p, "BULK1"), f.instance(sa, va, p, "BULK2"), f.instance(sa, va, p, "BULK3")}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		_, _, err := tx.ClaimUsageReports(ctx, []smartlic.UsageClaim{{InstanceID: insts[1].ID, ReportID: "r7", Hash: "old"}}, f.now)
		return err
	})
	var claims []smartlic.UsageClaim
	for i := range 300 {
		for _, inst := range insts {
			claims = append(claims, smartlic.UsageClaim{InstanceID: inst.ID, ReportID: fmt.Sprintf("r%d", i), Hash: fmt.Sprintf("h%d", i)})
		}
	}
	claims = append(claims,
		smartlic.UsageClaim{InstanceID: insts[0].ID, ReportID: "r5", Hash: "h5"},    // a copy within the list
		smartlic.UsageClaim{InstanceID: insts[2].ID, ReportID: "r5", Hash: "other"}, // another report under an id of the list
	)
	var res []smartlic.ClaimResult
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		res, _, err = tx.ClaimUsageReports(ctx, claims, f.now)
		return err
	})
	if len(res) != len(claims) {
		t.Fatalf("%d results for %d claims", len(res), len(claims))
	}
	for i, c := range claims {
		want := smartlic.ClaimResult{Claimed: true}
		switch {
		case i >= 900:
			want = smartlic.ClaimResult{PriorHash: "h5"}
		case c.InstanceID == insts[1].ID && c.ReportID == "r7":
			want = smartlic.ClaimResult{PriorHash: "old"}
		}
		if res[i] != want {
			t.Fatalf("claim %d %+v: %+v, want %+v", i, c, res[i], want)
		}
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		again, _, err := tx.ClaimUsageReports(ctx, claims[:450], f.now)
		for i, r := range again {
			if r.Claimed || r.PriorHash == "" {
				t.Fatalf("claim %d sent again: %+v", i, r)
			}
		}
		return err
	})
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, _, err := tx.ClaimUsageReports(ctx, []smartlic.UsageClaim{{InstanceID: insts[0].ID, ReportID: "new", Hash: "h"}, {InstanceID: newID(t), ReportID: "r1", Hash: "h1"}}, f.now)
		return err
	})
	if err == nil {
		t.Fatal("a report of a missing instance was recorded")
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		res, _, err := tx.ClaimUsageReports(ctx, []smartlic.UsageClaim{{InstanceID: insts[0].ID, ReportID: "new", Hash: "h"}}, f.now)
		if err == nil && !res[0].Claimed {
			t.Fatal("a claim of a refused list was kept")
		}
		return err
	})

	var marks []smartlic.InstanceMark
	for i := range 250 {
		for _, inst := range insts[:2] {
			marks = append(marks, smartlic.InstanceMark{InstanceID: inst.ID, UsageMark: smartlic.UsageMark{Tag: fmt.Sprintf("tag-%03d", i), MeasuredUntil: f.now, Count: int64(i)}})
		}
	}
	marks = append(marks, smartlic.InstanceMark{InstanceID: insts[0].ID, UsageMark: smartlic.UsageMark{Tag: "tag-000", MeasuredUntil: f.now.Add(time.Hour), Count: 99}})
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.SetUsageMarks(ctx, marks[:len(marks)-1]); err != nil {
			return err
		}
		return tx.SetUsageMarks(ctx, marks[len(marks)-1:])
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.UsageMarksOf(ctx, []string{insts[0].ID, insts[1].ID, insts[2].ID})
		if err != nil {
			return err
		}
		if len(got[insts[0].ID]) != 250 || len(got[insts[1].ID]) != 250 || len(got[insts[2].ID]) != 0 {
			t.Fatalf("marks read back: %d, %d, %d", len(got[insts[0].ID]), len(got[insts[1].ID]), len(got[insts[2].ID]))
		}
		wantEqual(t, "a replaced mark", got[insts[0].ID][0], smartlic.UsageMark{Tag: "tag-000", MeasuredUntil: f.now.Add(time.Hour), Count: 99})
		wantEqual(t, "the other instance's mark", got[insts[1].ID][0], smartlic.UsageMark{Tag: "tag-000", MeasuredUntil: f.now, Count: 0})
		return nil
	})
	// A claim answers its instances' marks as they stand, and only theirs.
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		_, got, err := tx.ClaimUsageReports(ctx, []smartlic.UsageClaim{
			{InstanceID: insts[0].ID, ReportID: "with-marks", Hash: "h"}, {InstanceID: insts[2].ID, ReportID: "with-marks", Hash: "h"},
			{InstanceID: insts[0].ID, ReportID: "with-marks-2", Hash: "h"},
		}, f.now)
		if err != nil {
			return err
		}
		want, err := tx.UsageMarksOf(ctx, []string{insts[0].ID, insts[2].ID})
		if len(got[insts[0].ID]) != 250 || len(got) != 1 || got[insts[1].ID] != nil {
			t.Fatalf("marks answered with the claims: %d of the first instance, %d instances", len(got[insts[0].ID]), len(got))
		}
		wantEqual(t, "marks answered with the claims", got, want)
		return err
	})
}

// testChangeUsageInBulk: ChangeUsage of more instances than one statement
// holds leaves each with exactly its After lines (changed, added, dropped,
// kept, only a status changed), touches no other instance, and a list
// that cannot be written leaves every instance as it was.
func testChangeUsageInBulk(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	a, b, c := f.licenseType("a-tag"), f.licenseType("b-tag"), f.licenseType("c-tag")
	line := func(lt smartlic.LicenseType, n int64, s smartlic.AuthStatus) smartlic.Usage {
		return smartlic.Usage{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: n, Status: s}
	}
	const n = 70 // more than one statement's rows
	var insts []smartlic.Instance
	for i := range n + 1 {
		insts = append(insts, f.instance(sa, va, p, fmt.Sprintf("CHG%03d", i), line(a, 1, smartlic.Authorized), line(b, 2, smartlic.Authorized)))
	}
	var changes []smartlic.UsageChange
	want := map[string][]smartlic.Usage{}
	for i, inst := range insts[:n] {
		var after []smartlic.Usage
		switch i % 4 {
		case 0: // a count changes, b goes, c comes
			after = []smartlic.Usage{line(c, 3, smartlic.Authorized), line(a, int64(i+1), smartlic.OutOfCompliance)}
		case 1: // the same lines
			after = slices.Clone(inst.Usage)
		case 2: // only a status changes
			after = []smartlic.Usage{line(a, 1, smartlic.Authorized), line(b, 2, smartlic.NotAuthorized)}
		case 3: // every line goes
		}
		changes = append(changes, smartlic.UsageChange{InstanceID: inst.ID, Before: inst.Usage, After: after})
		want[inst.ID] = sortedBy(slices.Clone(after), func(u smartlic.Usage) string { return u.LicenseTag })
		if want[inst.ID] == nil {
			want[inst.ID] = []smartlic.Usage{}
		}
	}
	want[insts[n].ID] = insts[n].Usage // not in the list
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.ChangeUsage(ctx, changes) })
	usage := func() map[string][]smartlic.Usage {
		got := map[string][]smartlic.Usage{}
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			ids := make([]string, len(insts))
			for i, inst := range insts {
				ids[i] = inst.ID
			}
			list, err := tx.GetInstances(ctx, ids, false)
			for _, inst := range list {
				got[inst.ID] = inst.Usage
				if got[inst.ID] == nil {
					got[inst.ID] = []smartlic.Usage{}
				}
			}
			return err
		})
		return got
	}
	wantEqual(t, "usage after ChangeUsage", usage(), want)

	// Lists that cannot be written, each after a change that could: none
	// of it stays.
	first := smartlic.UsageChange{InstanceID: insts[1].ID, Before: want[insts[1].ID], After: []smartlic.Usage{line(a, 9, smartlic.Authorized)}}
	for _, tc := range []struct {
		what   string
		change smartlic.UsageChange
		code   string
	}{
		{"a type listed twice", smartlic.UsageChange{InstanceID: insts[2].ID, Before: want[insts[2].ID], After: []smartlic.Usage{line(c, 1, smartlic.Authorized), line(c, 2, smartlic.Authorized)}}, smartlic.EInvalid},
		{"an instance listed twice", first, smartlic.EInvalid},
		{"a missing instance", smartlic.UsageChange{InstanceID: newID(t), After: []smartlic.Usage{line(a, 1, smartlic.Authorized)}}, smartlic.ENotFound},
		{"a missing license type", smartlic.UsageChange{InstanceID: insts[2].ID, Before: want[insts[2].ID], After: []smartlic.Usage{{LicenseTypeID: newID(t), LicenseTag: "x", Count: 1}}}, smartlic.ENotFound},
		{"a line to drop that is not there", smartlic.UsageChange{InstanceID: insts[3].ID, Before: []smartlic.Usage{line(c, 1, smartlic.Authorized)}}, smartlic.ENotFound},
	} {
		err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
			return tx.ChangeUsage(ctx, []smartlic.UsageChange{first, tc.change})
		})
		if smartlic.ErrorCode(err) != tc.code {
			t.Fatalf("%s: err = %v, want code %s", tc.what, err, tc.code)
		}
	}
	wantEqual(t, "usage after refused changes", usage(), want)
}

// testUpdateReportingTimesInBulk: UpdateReportingTimes of more instances
// than one statement holds writes each one's reporting times, set or
// cleared, and nothing else; a list naming a missing instance, or one
// twice, writes nothing.
func testUpdateReportingTimesInBulk(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	const n = 70
	var insts []smartlic.Instance
	for i := range n + 1 {
		inst := f.newInstance(sa, va, p, fmt.Sprintf("REP%03d", i))
		inst.Mode, inst.TrustSerial, inst.TrustedAt = smartlic.ModePolicy, "serial", ptr(f.now)
		inst.FirstUseAt, inst.UsageChangedAt = ptr(f.now.Add(-time.Hour)), ptr(f.now.Add(-time.Minute))
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, inst) })
		insts = append(insts, inst)
	}
	want := slices.Clone(insts)
	sent := make([]smartlic.Instance, n)
	for i := range n {
		w := &want[i]
		w.LastContactAt = f.now.Add(time.Duration(i) * time.Second)
		w.LastReportAt, w.LastAckAt = ptr(f.now.Add(time.Duration(i)*time.Minute)), ptr(f.now.Add(time.Duration(i)*time.Minute+time.Microsecond))
		if i%2 == 0 {
			w.FirstUseAt, w.UsageChangedAt = ptr(f.now.Add(-time.Duration(i)*time.Hour)), nil
		}
		sent[i] = *w
		sent[i].Hostname, sent[i].PublicKey, sent[i].TrustedAt = "not-written", []byte("not-written"), nil // not reporting times
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateReportingTimes(ctx, sent) })
	read := func() []smartlic.Instance {
		var got []smartlic.Instance
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			ids := make([]string, len(insts))
			for i, inst := range insts {
				ids[i] = inst.ID
			}
			var err error
			got, err = tx.GetInstances(ctx, ids, false)
			return err
		})
		return got
	}
	wantEqual(t, "after UpdateReportingTimes", read(), sortedBy(slices.Clone(want), instID))

	for _, tc := range []struct {
		what string
		list []smartlic.Instance
		code string
	}{
		{"a missing instance", []smartlic.Instance{insts[0], {ID: newID(t), LastContactAt: f.now}}, smartlic.ENotFound},
		{"an instance twice", []smartlic.Instance{insts[0], insts[0]}, smartlic.EInvalid},
	} {
		err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateReportingTimes(ctx, tc.list) })
		if smartlic.ErrorCode(err) != tc.code {
			t.Fatalf("%s: err = %v, want code %s", tc.what, err, tc.code)
		}
	}
	wantEqual(t, "after refused updates", read(), sortedBy(slices.Clone(want), instID))
}

// testAppendEventsInBulk: a run of sealed events of one chain, more than
// one statement's worth, reads back whole and in order with the head on
// the last; a run that does not follow the head is refused and leaves
// nothing.
func testAppendEventsInBulk(t *testing.T, f *fixture) {
	sa, _ := f.account("example.com")
	seal := func(head smartlic.ChainHead, n int) []smartlic.Event {
		out := make([]smartlic.Event, n)
		for i := range out {
			out[i] = smartlic.Event{ID: newID(t), At: f.now, SmartAccountID: sa.ID, Type: "instance.usage_changed", Subject: fmt.Sprint(i), Message: fmt.Sprintf("event %d", i)}
			out[i].Seal(head)
			head = smartlic.ChainHead{Chain: head.Chain, Seq: out[i].Seq, Hash: out[i].Hash}
		}
		return out
	}
	var run []smartlic.Event
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		head, err := tx.LockEventChain(ctx, sa.ID)
		if err != nil {
			return err
		}
		run = seal(head, 120)
		return tx.AppendEvents(ctx, run)
	})
	stale := seal(smartlic.ChainHead{Chain: sa.ID, Seq: 3, Hash: run[2].Hash}, 2) // forks the chain after its third entry
	if err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.AppendEvents(ctx, stale) }); err == nil {
		t.Fatal("a run that does not follow the head was appended")
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.ChainEvents(ctx, sa.ID, 0, 500)
		if err != nil {
			return err
		}
		if len(got) != len(run) {
			t.Fatalf("read back %d events, want %d", len(got), len(run))
		}
		for i, e := range got {
			if e.Seq != int64(i+1) || e.Hash != run[i].Hash || e.ComputeHash() != e.Hash || (i > 0 && e.PrevHash != got[i-1].Hash) {
				t.Fatalf("entry %d: seq %d, hash %s (want %s)", i, e.Seq, e.Hash, run[i].Hash)
			}
		}
		seqs, err := tx.ChainSeqs(ctx, sa.ID)
		if err == nil && seqs[0] != int64(len(run)) {
			t.Fatalf("head at %d, want %d", seqs[0], len(run))
		}
		return err
	})
}

// testGetInstancesInBulk: many instances read at once come back in id
// order with their own usage lines, each once, without the ids that are
// not there; with lock, the same.
func testGetInstancesInBulk(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	lt := f.licenseType("network-advantage")
	var want []smartlic.Instance
	var ids []string
	for i := range 12 {
		var usage []smartlic.Usage
		if i%3 != 0 {
			usage = append(usage, smartlic.Usage{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: int64(i), Status: smartlic.Authorized})
		}
		inst := f.instance(sa, va, p, fmt.Sprintf("GET%02d", i), usage...)
		want = append(want, inst)
		ids = append(ids, inst.ID, newID(t)) // and one that is not there
	}
	ids = append(ids, want[0].ID) // twice
	slices.SortFunc(want, func(a, b smartlic.Instance) int { return strings.Compare(a.ID, b.ID) })
	for _, lock := range []bool{false, true} {
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			got, err := tx.GetInstances(ctx, ids, lock)
			if err != nil {
				return err
			}
			wantEqual(t, fmt.Sprintf("instances (lock %v)", lock), got, want)
			return nil
		})
	}
}

// testUsageUploads: uploads list per Smart Account in id order, without
// their ACK files, and read back one by one with them.
func testUsageUploads(t *testing.T, f *fixture) {
	sa, _ := f.account("example.com")
	other, _ := f.account("other.example")
	ups := []smartlic.UsageUpload{
		{ID: newID(t), SmartAccountID: sa.ID, FileName: "usage-1.json", UploadedBy: "ana@example.com", UploadedAt: f.now,
			Summary: smartlic.UsageSummary{Reports: 3, Accepted: 2, Rejected: 1, Duplicates: 1, Instances: 2}, Ack: []byte(`{"type":"smartlic.ack-file/v1"}`)},
		{ID: newID(t), SmartAccountID: other.ID, FileName: "theirs.json", UploadedBy: "bo@other.example", UploadedAt: f.now, Ack: []byte(`{}`)},
		{ID: newID(t), SmartAccountID: sa.ID, FileName: "usage-2.json", UploadedBy: "ana@example.com", UploadedAt: f.now.Add(time.Hour),
			Summary: smartlic.UsageSummary{Reports: 1, Accepted: 1}, Ack: []byte(`{"n":2}`)},
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		for _, u := range ups {
			if err := tx.InsertUsageUpload(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListUsageUploads(ctx, sa.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		strip := func(u smartlic.UsageUpload) smartlic.UsageUpload { u.Ack = nil; return u }
		wantEqual(t, "list", list, []smartlic.UsageUpload{strip(ups[0]), strip(ups[2])})
		page, err := tx.ListUsageUploads(ctx, sa.ID, smartlic.Page{Limit: 10, After: ups[0].ID})
		if err != nil {
			return err
		}
		wantEqual(t, "second page", page, []smartlic.UsageUpload{strip(ups[2])})
		got, err := tx.GetUsageUpload(ctx, ups[0].ID)
		wantEqual(t, "get", got, ups[0])
		return err
	})
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetUsageUpload(ctx, newID(t))
		return err
	})
	wantCode(t, err, smartlic.ENotFound, "")
}

// testPipeline: inside Pipeline, reads see the writes held before them
// (reporting times, pool moves), the writes held last are written when
// fn returns, and a held write that fails is Pipeline's answer and
// leaves nothing of its transaction.
func testPipeline(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	lt := f.licenseType("network-advantage")
	inst := f.instance(sa, va, p, "PIPE01")
	key := smartlic.PoolKey{VirtualAccountID: va.ID, LicenseTypeID: lt.ID}
	inUse := func(ctx context.Context, tx smartlic.Tx) (int64, error) {
		_, counters, err := tx.PoolStateOf(ctx, va.ID, []string{lt.ID})
		if err != nil || len(counters) != 1 {
			return 0, fmt.Errorf("pool state: %d counters, %w", len(counters), err)
		}
		return counters[0].InUse, nil
	}
	reported := inst
	reported.LastContactAt, reported.LastReportAt = f.now.Add(time.Hour), ptr(f.now.Add(time.Hour))
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.Pipeline(ctx, func() error {
			if err := tx.UpdateReportingTimes(ctx, []smartlic.Instance{reported}); err != nil {
				return err
			}
			if err := tx.AddInUseAll(ctx, []smartlic.PoolMove{{PoolKey: key, Delta: 3, At: f.now}}); err != nil {
				return err
			}
			got, err := tx.GetInstances(ctx, []string{inst.ID}, true)
			if err != nil {
				return err
			}
			if len(got) != 1 || !got[0].LastContactAt.Equal(reported.LastContactAt) {
				t.Errorf("inside Pipeline, the instance read after its held update: %+v, want last contact %v", got, reported.LastContactAt)
			}
			if n, err := inUse(ctx, tx); err != nil || n != 3 {
				t.Errorf("inside Pipeline, the pool read after its held move: in use %d (%v), want 3", n, err)
			}
			return tx.AddInUseAll(ctx, []smartlic.PoolMove{{PoolKey: key, Delta: 2, At: f.now.Add(time.Minute)}})
		})
	})
	check := func(what string, want int64) {
		t.Helper()
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			n, err := inUse(ctx, tx)
			if err != nil {
				return err
			}
			history, err := tx.InUseAt(ctx, []string{va.ID}, f.now.Add(time.Hour))
			if err != nil {
				return err
			}
			if n != want || len(history) != 1 || history[0].InUse != want {
				t.Errorf("%s: in use %d, history %+v, want %d in both", what, n, history, want)
			}
			return nil
		})
	}
	check("after the pipeline", 5)

	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.Pipeline(ctx, func() error {
			if err := tx.AddInUseAll(ctx, []smartlic.PoolMove{{PoolKey: key, Delta: 7, At: f.now.Add(2 * time.Minute)}}); err != nil {
				return err
			}
			return tx.UpdateReportingTimes(ctx, []smartlic.Instance{{ID: newID(t), LastContactAt: f.now}})
		})
	})
	if smartlic.ErrorCode(err) != smartlic.ENotFound {
		t.Fatalf("a pipeline whose held update names a missing instance: err = %v, want %s", err, smartlic.ENotFound)
	}
	check("after the failed pipeline", 5)
}
