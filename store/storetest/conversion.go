package storetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunConversion runs the conformance tests of classic SKUs, PAKs and
// conversions as subtests; open returns a new, empty store for each.
func RunConversion(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"ClassicSKUs", testClassicSKUs},
		{"PAKs", testPAKs},
		{"ClaimPAKUnits", testClaimPAKUnits},
		{"FulfillmentsOn", testFulfillmentsOn},
		{"Conversions", testConversions},
		{"ConcurrentClaimPAKUnits", testConcurrentClaimPAKUnits},
	})
}

func (f *fixture) classicSKU(sku string, lt *smartlic.LicenseType, ratio int64) smartlic.ClassicSKU {
	f.t.Helper()
	s := smartlic.ClassicSKU{ID: newID(f.t), SKU: sku, Description: "classic " + sku, Ratio: ratio, CreatedAt: f.now}
	if lt != nil {
		s.LicenseTypeID, s.LicenseTag, s.TermDays = lt.ID, lt.Tag, 365
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertClassicSKU(ctx, s) })
	return s
}

// newPAK builds a PAK of the Smart Account with the given lines, filling
// in their ids and numbers.
func (f *fixture) newPAK(sa smartlic.SmartAccount, number string, lines ...smartlic.PAKLine) smartlic.PAK {
	p := smartlic.PAK{ID: newID(f.t), SmartAccountID: sa.ID, Number: number, OrderNumber: "SO-" + number, CreatedAt: f.now}
	for i, l := range lines {
		l.ID, l.PAKID, l.Line = newID(f.t), p.ID, i+1
		for j := range l.Fulfillments {
			l.Fulfillments[j].ID, l.Fulfillments[j].LineID = newID(f.t), l.ID
		}
		p.Lines = append(p.Lines, l)
	}
	return p
}

func (f *fixture) pak(sa smartlic.SmartAccount, number string, lines ...smartlic.PAKLine) smartlic.PAK {
	f.t.Helper()
	p := f.newPAK(sa, number, lines...)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertPAK(ctx, p) })
	return p
}

func (f *fixture) getPAK(saID, key string) smartlic.PAK {
	f.t.Helper()
	var p smartlic.PAK
	f.read(func(ctx context.Context, tx smartlic.Tx) (err error) {
		p, err = tx.GetPAK(ctx, saID, key)
		return err
	})
	return p
}

func testClassicSKUs(t *testing.T, f *fixture) {
	lt := f.licenseType("network-advantage")
	mapped := f.classicSKU("L-C3850-24-S-E", &lt, 2)
	unmapped := f.classicSKU("L-OLD-FEATURE=", nil, 1)

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		for _, key := range []string{mapped.ID, mapped.SKU} {
			got, err := tx.GetClassicSKU(ctx, key)
			if err != nil {
				return err
			}
			wantEqual(t, "classic SKU by "+key, got, mapped)
		}
		got, err := tx.GetClassicSKU(ctx, unmapped.SKU)
		if err != nil {
			return err
		}
		wantEqual(t, "unmapped classic SKU", got, unmapped)
		if got.Convertible() {
			t.Error("a SKU without a license type is convertible")
		}
		_, err = tx.GetClassicSKU(ctx, "L-NOPE")
		wantNotFound(t, err, "L-NOPE")
		list, err := tx.ListClassicSKUs(ctx, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		wantEqual(t, "listed SKUs", ids(list, func(s smartlic.ClassicSKU) string { return s.ID }), []string{mapped.ID, unmapped.ID})
		return nil
	})

	dup := mapped
	dup.ID = newID(t)
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertClassicSKU(ctx, dup) }), smartlic.EConflict, "sku")
	badRef := smartlic.ClassicSKU{ID: newID(t), SKU: "L-BAD", Ratio: 1, LicenseTypeID: newID(t), CreatedAt: f.now}
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertClassicSKU(ctx, badRef) }), smartlic.ENotFound, "")

	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteClassicSKU(ctx, unmapped.ID) })
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteClassicSKU(ctx, unmapped.ID) })
	wantCode(t, err, smartlic.ENotFound, "")
}

func testPAKs(t *testing.T, f *fixture) {
	sa, _ := f.account("example.com")
	other, _ := f.account("other.example")
	udi := smartlic.UDI{PID: "ISR4331", SN: "FDO1"}
	p := f.pak(sa, "3300J7A1B2C",
		smartlic.PAKLine{SKU: "L-A", Quantity: 10, Fulfillments: []smartlic.PAKFulfillment{{UDI: udi, Count: 4}}},
		smartlic.PAKLine{SKU: "L-B", Quantity: 3})

	for _, key := range []string{p.ID, p.Number} {
		wantEqual(t, "PAK by "+key, f.getPAK(sa.ID, key), p)
	}
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetPAK(ctx, other.ID, p.Number)
		return err
	})
	wantNotFound(t, err, p.Number)

	dup := f.newPAK(other, p.Number, smartlic.PAKLine{SKU: "L-A", Quantity: 1})
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertPAK(ctx, dup) }), smartlic.EConflict, "number")
	// A failed insert leaves no lines behind.
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListPAKs(ctx, other.ID, smartlic.Page{Limit: 10})
		if len(list) != 0 {
			t.Errorf("other account lists %d PAKs after a refused deposit", len(list))
		}
		return err
	})

	second := f.pak(sa, "3300J7A1B2D", smartlic.PAKLine{SKU: "L-C", Quantity: 1})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListPAKs(ctx, sa.ID, smartlic.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != p.ID || len(list[0].Lines) != 2 {
			t.Errorf("first page = %+v, want PAK %s with its 2 lines", list, p.Number)
		}
		list, err = tx.ListPAKs(ctx, sa.ID, smartlic.Page{Limit: 10, After: p.ID})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != second.ID {
			t.Errorf("second page = %+v, want PAK %s", list, second.Number)
		}
		return nil
	})
}

func testClaimPAKUnits(t *testing.T, f *fixture) {
	sa, _ := f.account("example.com")
	udi := smartlic.UDI{PID: "ISR4331", SN: "FDO1"}
	p := f.pak(sa, "PAK-1", smartlic.PAKLine{SKU: "L-A", Quantity: 10, Fulfillments: []smartlic.PAKFulfillment{{UDI: udi, Count: 4}}})
	line, ful := p.Lines[0], p.Lines[0].Fulfillments[0]

	claim := func(n int64) bool {
		t.Helper()
		var ok bool
		f.write(func(ctx context.Context, tx smartlic.Tx) (err error) {
			ok, err = tx.ClaimPAKUnits(ctx, line.ID, n)
			return err
		})
		return ok
	}
	if !claim(6) || !claim(4) {
		t.Fatal("claims within the quantity were refused")
	}
	if claim(1) {
		t.Error("a claim beyond the quantity succeeded")
	}
	if got := f.getPAK(sa.ID, p.ID).Lines[0]; got.Converted != 10 || got.Remaining() != 0 {
		t.Errorf("line after claims = %+v, want 10 converted", got)
	}
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.ClaimPAKUnits(ctx, line.ID, 0)
		return err
	}),
		smartlic.EInvalid, "quantity")

	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		ok, err := tx.ClaimFulfilledUnits(ctx, ful.ID, 5)
		if ok {
			t.Error("claimed 5 of a fulfillment of 4")
		}
		if err != nil {
			return err
		}
		ok, err = tx.ClaimFulfilledUnits(ctx, ful.ID, 4)
		if !ok {
			t.Error("claiming a whole fulfillment was refused")
		}
		return err
	})
	if got := f.getPAK(sa.ID, p.ID).Lines[0].Fulfillments[0]; got.Converted != 4 {
		t.Errorf("fulfillment converted = %d, want 4", got.Converted)
	}

	// A claim in a rolled-back transaction leaves nothing behind.
	p2 := f.pak(sa, "PAK-2", smartlic.PAKLine{SKU: "L-A", Quantity: 2})
	_ = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.ClaimPAKUnits(ctx, p2.Lines[0].ID, 2); err != nil {
			return err
		}
		return smartlic.Invalid("x", "roll back")
	})
	if got := f.getPAK(sa.ID, p2.ID).Lines[0].Converted; got != 0 {
		t.Errorf("converted after a rolled-back claim = %d, want 0", got)
	}
}

func testFulfillmentsOn(t *testing.T, f *fixture) {
	sa, _ := f.account("example.com")
	other, _ := f.account("other.example")
	dev := smartlic.UDI{PID: "ISR4331", SN: "FDO1"}
	dev2 := smartlic.UDI{PID: "ISR4331", SN: "FDO2"}
	p1 := f.pak(sa, "PAK-1",
		smartlic.PAKLine{SKU: "L-A", Quantity: 10, Fulfillments: []smartlic.PAKFulfillment{{UDI: dev, Count: 4}, {UDI: dev2, Count: 2}}},
		smartlic.PAKLine{SKU: "L-B", Quantity: 5, Fulfillments: []smartlic.PAKFulfillment{{UDI: dev, Count: 1}}})
	p2 := f.pak(sa, "PAK-2", smartlic.PAKLine{SKU: "L-A", Quantity: 3, Fulfillments: []smartlic.PAKFulfillment{{UDI: dev, Count: 3}}})
	f.pak(other, "PAK-3", smartlic.PAKLine{SKU: "L-A", Quantity: 3, Fulfillments: []smartlic.PAKFulfillment{{UDI: dev, Count: 3}}})

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.FulfillmentsOn(ctx, sa.ID, dev, "L-A", "")
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].PAKID != p1.ID || got[1].PAKID != p2.ID {
			t.Fatalf("fulfillments of L-A on %s = %+v, want PAK-1's then PAK-2's", dev, got)
		}
		wantEqual(t, "first fulfillment", got[0].Fulfillment, p1.Lines[0].Fulfillments[0])
		line := p1.Lines[0]
		line.Fulfillments = nil
		wantEqual(t, "its line", got[0].Line, line)
		if got[0].PAKNumber != "PAK-1" || got[0].OrderNumber != "SO-PAK-1" {
			t.Errorf("PAK of the fulfillment = %q/%q", got[0].PAKNumber, got[0].OrderNumber)
		}
		got, err = tx.FulfillmentsOn(ctx, sa.ID, dev, "L-A", "PAK-2")
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].PAKID != p2.ID {
			t.Errorf("fulfillments in PAK-2 = %+v", got)
		}
		for _, q := range []struct {
			udi      smartlic.UDI
			sku, pak string
		}{{dev, "L-C", ""}, {smartlic.UDI{PID: "ISR4331", SN: "NONE"}, "L-A", ""}, {dev2, "L-B", ""}, {dev, "L-A", "PAK-3"}} {
			got, err := tx.FulfillmentsOn(ctx, sa.ID, q.udi, q.sku, q.pak)
			if err != nil {
				return err
			}
			if len(got) != 0 {
				t.Errorf("FulfillmentsOn(%s, %s, %q) = %+v, want none", q.udi, q.sku, q.pak, got)
			}
		}
		return nil
	})
}

func testConversions(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	lt := f.licenseType("network-advantage")
	p := f.pak(sa, "PAK-1", smartlic.PAKLine{SKU: "L-A", Quantity: 10})
	d := f.deposit(va.ID, lt, 4, nil)
	udi := smartlic.UDI{PID: "ISR4331", SN: "FDO1"}
	portal := smartlic.Conversion{ID: newID(t), SmartAccountID: sa.ID, PAKID: p.ID, PAKNumber: p.Number, LineID: p.Lines[0].ID, Line: 1, SKU: "L-A",
		Units: 2, VirtualAccountID: va.ID, DepositID: d.ID, LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: 4, CreatedAt: f.now}
	device := portal
	device.ID, device.InstanceID, device.UDI, device.CreatedAt = newID(t), newID(t), &udi, f.now.Add(time.Second)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.InsertConversion(ctx, portal); err != nil {
			return err
		}
		return tx.InsertConversion(ctx, device)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.ListConversions(ctx, p.ID)
		wantEqual(t, "conversions", got, []smartlic.Conversion{portal, device})
		return err
	})
}

// testConcurrentClaimPAKUnits converts one unit of a 10-unit line from 50
// transactions at once: exactly 10 may succeed.
func testConcurrentClaimPAKUnits(t *testing.T, f *fixture) {
	const racers, quantity = 50, 10
	sa, _ := f.account("example.com")
	p := f.pak(sa, "PAK-1", smartlic.PAKLine{SKU: "L-A", Quantity: quantity})

	var won atomic.Int64
	f.writeAtOnce(racers, func(_ int, tx smartlic.Tx) error {
		ok, err := tx.ClaimPAKUnits(f.ctx(), p.Lines[0].ID, 1)
		if ok {
			won.Add(1)
		}
		return err
	})
	if got := won.Load(); got != quantity {
		t.Errorf("%d claims of one unit succeeded on a line of %d", got, quantity)
	}
	if got := f.getPAK(sa.ID, p.ID).Lines[0].Converted; got != quantity {
		t.Errorf("converted = %d, want %d", got, quantity)
	}
}
