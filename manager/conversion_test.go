package manager_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// classicCatalog adds the classic SKUs the conversion tests use:
// L-ESS (perpetual, 1 unit = 2 network-essentials), L-ADV (subscription,
// 1 = 1 network-advantage for 365 days) and L-OLD (no smart equivalent).
func (f *fixture) classicCatalog() {
	f.t.Helper()
	for _, in := range []smartlic.ClassicSKUInput{
		{SKU: "L-ESS", License: "network-essentials", Ratio: 2},
		{SKU: "L-ADV", License: "network-advantage", TermDays: 365},
		{SKU: "L-OLD", Description: "retired feature"},
	} {
		must[smartlic.ClassicSKU](f.t)(f.mgr.CreateClassicSKU(f.ctx, in))
	}
}

func (f *fixture) purchased(sa, va, tag string) int64 {
	f.t.Helper()
	pools := must[[]smartlic.Pool](f.t)(f.mgr.ListPools(f.ctx, sa, va, false))
	for _, p := range pools {
		if p.LicenseTag == tag {
			return p.Purchased
		}
	}
	return 0
}

func TestClassicSKUMapping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		f.classicCatalog()
		got := must[smartlic.ClassicSKU](t)(f.mgr.GetClassicSKU(f.ctx, "L-ESS"))
		if got.LicenseTag != "network-essentials" || got.Ratio != 2 || got.TermDays != 0 || !got.Convertible() {
			t.Fatalf("L-ESS = %+v", got)
		}
		if got := must[smartlic.ClassicSKU](t)(f.mgr.GetClassicSKU(f.ctx, "L-OLD")); got.Convertible() || got.Ratio != 1 {
			t.Fatalf("L-OLD = %+v", got)
		}
		for _, tc := range []struct {
			in          smartlic.ClassicSKUInput
			code, field string
		}{
			{smartlic.ClassicSKUInput{SKU: "L-X", License: "no-such-license"}, smartlic.EInvalid, "license"},
			{smartlic.ClassicSKUInput{SKU: "L-X", License: "network-advantage"}, smartlic.EInvalid, "term_days"},
			{smartlic.ClassicSKUInput{SKU: "L-X", License: "network-essentials", TermDays: 30}, smartlic.EInvalid, "term_days"},
			{smartlic.ClassicSKUInput{SKU: "L-X", License: "network-essentials", Ratio: -1}, smartlic.EInvalid, "ratio"},
			{smartlic.ClassicSKUInput{SKU: "bad sku"}, smartlic.EInvalid, "sku"},
			{smartlic.ClassicSKUInput{SKU: "L-ESS", License: "network-essentials"}, smartlic.EConflict, "sku"},
		} {
			_, err := f.mgr.CreateClassicSKU(f.ctx, tc.in)
			wantCode(t, err, tc.code)
			if smartlic.ErrorField(err) != tc.field {
				t.Errorf("%+v: field %q, want %q", tc.in, smartlic.ErrorField(err), tc.field)
			}
		}
		customer := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "user@acme.example", Role: "sa_user"})
		_, err := f.mgr.CreateClassicSKU(customer, smartlic.ClassicSKUInput{SKU: "L-Y"})
		wantCode(t, err, smartlic.EForbidden)
		list, _ := must2(t)(f.mgr.ListClassicSKUs(f.ctx, smartlic.Page{}))
		if len(list) != 3 {
			t.Fatalf("listed %d SKUs, want 3", len(list))
		}
		if err := f.mgr.DeleteClassicSKU(f.ctx, "L-OLD"); err != nil {
			t.Fatal(err)
		}
		_, err = f.mgr.GetClassicSKU(f.ctx, "L-OLD")
		wantCode(t, err, smartlic.ENotFound)
	})
}

func must2(t *testing.T) func([]smartlic.ClassicSKU, string, error) ([]smartlic.ClassicSKU, string) {
	return func(v []smartlic.ClassicSKU, next string, err error) ([]smartlic.ClassicSKU, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v, next
	}
}

// TestConvertPAK converts part of a PAK, then the rest, then refuses a
// second conversion of the same units without changing anything.
func TestConvertPAK(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		f.classicCatalog()
		sa := f.account("acme.example")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Campus"}))

		_, err := f.mgr.DepositPAK(f.ctx, sa.Domain, smartlic.PAKInput{Number: "PAK-0", OrderNumber: "SO-0",
			Lines: []smartlic.PAKLineInput{{SKU: "L-UNKNOWN", Quantity: 1}}})
		wantCode(t, err, smartlic.EInvalid)
		if smartlic.ErrorField(err) != "lines.sku" {
			t.Fatalf("unknown SKU at deposit: field %q, want lines.sku", smartlic.ErrorField(err))
		}
		pak := must[smartlic.PAK](t)(f.mgr.DepositPAK(f.ctx, sa.Domain, smartlic.PAKInput{Number: "3300J7A1B2C", OrderNumber: "SO-1",
			Lines: []smartlic.PAKLineInput{{SKU: "L-ESS", Quantity: 10}, {SKU: "L-ADV", Quantity: 5}, {SKU: "L-OLD", Quantity: 2}}}))
		_, err = f.mgr.DepositPAK(f.ctx, sa.Domain, smartlic.PAKInput{Number: pak.Number, OrderNumber: "SO-2",
			Lines: []smartlic.PAKLineInput{{SKU: "L-ESS", Quantity: 1}}})
		wantCode(t, err, smartlic.EConflict)

		// Part of line 1.
		res := must[smartlic.ConversionResult](t)(f.mgr.ConvertPAK(f.ctx, sa.Domain, pak.Number, smartlic.ConvertInput{VA: "Campus",
			Lines: []smartlic.ConvertLineInput{{Line: 1, Quantity: 4}}}))
		if len(res.Deposits) != 1 || res.Deposits[0].Quantity != 8 || res.Deposits[0].EndsAt != nil || res.PAK.Lines[0].Converted != 4 {
			t.Fatalf("partial conversion = %+v", res)
		}
		if got := f.purchased(sa.Domain, "Campus", "network-essentials"); got != 8 {
			t.Fatalf("purchased after converting 4 units = %d, want 8", got)
		}

		// Refusals change nothing.
		for _, tc := range []struct {
			in          smartlic.ConvertInput
			code, field string
		}{
			{smartlic.ConvertInput{VA: "Campus", Lines: []smartlic.ConvertLineInput{{Line: 1, Quantity: 7}}}, smartlic.EAlreadyConverted, "lines.quantity"},
			{smartlic.ConvertInput{VA: "Campus", Lines: []smartlic.ConvertLineInput{{Line: 3}}}, smartlic.EInvalid, "lines.sku"},
			{smartlic.ConvertInput{VA: "Campus", Lines: []smartlic.ConvertLineInput{{SKU: "L-NOPE"}}}, smartlic.EInvalid, "lines.sku"},
			{smartlic.ConvertInput{VA: "Campus", Lines: []smartlic.ConvertLineInput{{Line: 9}}}, smartlic.EInvalid, "lines.line"},
			{smartlic.ConvertInput{VA: "Campus", Lines: []smartlic.ConvertLineInput{{Line: 1, Quantity: 11}}}, smartlic.EInvalid, "lines.quantity"},
			{smartlic.ConvertInput{VA: "Campus", Lines: []smartlic.ConvertLineInput{{Line: 1, Quantity: 1}, {SKU: "L-ESS"}}}, smartlic.EInvalid, "lines"},
			// The second line is fine, the first is not: neither converts.
			{smartlic.ConvertInput{VA: "Campus", Lines: []smartlic.ConvertLineInput{{Line: 2, Quantity: 1}, {Line: 1, Quantity: 7}}}, smartlic.EAlreadyConverted, "lines.quantity"},
			{smartlic.ConvertInput{VA: "Nowhere"}, smartlic.ENotFound, "va"},
		} {
			_, err := f.mgr.ConvertPAK(f.ctx, sa.Domain, pak.Number, tc.in)
			wantCode(t, err, tc.code)
			if smartlic.ErrorField(err) != tc.field {
				t.Errorf("%+v: field %q (%v), want %q", tc.in, smartlic.ErrorField(err), err, tc.field)
			}
		}
		if got := must[smartlic.PAK](t)(f.mgr.GetPAK(f.ctx, sa.Domain, pak.ID)); got.Lines[0].Converted != 4 || got.Lines[1].Converted != 0 {
			t.Fatalf("PAK after refusals = %+v", got.Lines)
		}

		// The rest: every convertible unit; L-OLD stays.
		res = must[smartlic.ConversionResult](t)(f.mgr.ConvertPAK(f.ctx, sa.Domain, pak.Number, smartlic.ConvertInput{VA: "Campus"}))
		if len(res.Conversions) != 2 || res.Conversions[0].Units != 6 || res.Conversions[1].Units != 5 {
			t.Fatalf("converting the rest = %+v", res.Conversions)
		}
		end := epoch.Add(365 * smartlic.Day)
		if d := res.Deposits[1]; d.LicenseTag != "network-advantage" || d.Quantity != 5 || d.EndsAt == nil || !d.EndsAt.Equal(end) {
			t.Fatalf("subscription deposit = %+v, want 5 ending %v", d, end)
		}
		if got := f.purchased(sa.Domain, "Campus", "network-essentials"); got != 20 {
			t.Fatalf("purchased network-essentials = %d, want 20", got)
		}
		if got := f.purchased(sa.Domain, "Campus", "network-advantage"); got != 5 {
			t.Fatalf("purchased network-advantage = %d, want 5", got)
		}

		// Twice: refused, nothing changes.
		for _, in := range []smartlic.ConvertInput{
			{VA: "Campus"},
			{VA: "Campus", Lines: []smartlic.ConvertLineInput{{Line: 1, Quantity: 1}}},
			{VA: smartlic.DefaultVAName, Lines: []smartlic.ConvertLineInput{{SKU: "L-ADV"}}},
		} {
			_, err := f.mgr.ConvertPAK(f.ctx, sa.Domain, pak.Number, in)
			wantCode(t, err, smartlic.EAlreadyConverted)
		}
		convs := must[[]smartlic.Conversion](t)(f.mgr.ListConversions(f.ctx, sa.Domain, pak.Number))
		if len(convs) != 3 {
			t.Fatalf("%d conversions recorded, want 3", len(convs))
		}
		if got := f.purchased(sa.Domain, "Campus", "network-essentials"); got != 20 {
			t.Fatalf("purchased after a refused second conversion = %d, want 20", got)
		}
		if got := f.purchased(sa.Domain, smartlic.DefaultVAName, "network-advantage"); got != 0 {
			t.Fatalf("DEFAULT received %d licenses from a refused conversion", got)
		}
		events, _, err := f.mgr.ListEvents(f.ctx, sa.Domain, smartlic.EventFilter{Type: "pak."}, smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 4 { // deposited + three conversions
			t.Fatalf("%d pak events, want 4: %+v", len(events), events)
		}
	})
}

// TestConcurrentConversions: 50 requests each convert 1 unit of a 10-unit
// line; exactly 10 succeed and 10 units' licenses are deposited.
func TestConcurrentConversions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		f.classicCatalog()
		sa := f.account("acme.example")
		pak := must[smartlic.PAK](t)(f.mgr.DepositPAK(f.ctx, sa.Domain, smartlic.PAKInput{Number: "PAK-1", OrderNumber: "SO-1",
			Lines: []smartlic.PAKLineInput{{SKU: "L-ESS", Quantity: 10}}}))
		const racers = 50
		var won, refused atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := f.mgr.ConvertPAK(f.ctx, sa.Domain, pak.Number, smartlic.ConvertInput{VA: smartlic.DefaultVAName,
					Lines: []smartlic.ConvertLineInput{{Line: 1, Quantity: 1}}})
				switch smartlic.ErrorCode(err) {
				case "":
					won.Add(1)
				case smartlic.EAlreadyConverted:
					refused.Add(1)
				default:
					t.Errorf("ConvertPAK: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if won.Load() != 10 || refused.Load() != racers-10 {
			t.Fatalf("%d conversions succeeded and %d were refused, want 10 and %d", won.Load(), refused.Load(), racers-10)
		}
		if got := f.purchased(sa.Domain, smartlic.DefaultVAName, "network-essentials"); got != 20 {
			t.Fatalf("purchased = %d, want 20 (10 units × 2)", got)
		}
		if got := must[smartlic.PAK](t)(f.mgr.GetPAK(f.ctx, sa.Domain, pak.Number)).Lines[0].Converted; got != 10 {
			t.Fatalf("converted = %d, want 10", got)
		}
	})
}

// TestDeviceLedConversion drives the signed convert request directly:
// only units fulfilled on the reporting device convert, once.
func TestDeviceLedConversion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		f.classicCatalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		d, other := newDevice(t, "FOC0001"), newDevice(t, "FOC0002")
		must[smartlic.IDCert](t)(f.register(d, tok))
		must[smartlic.IDCert](t)(f.register(other, tok))
		must[smartlic.PAK](t)(f.mgr.DepositPAK(f.ctx, sa.Domain, smartlic.PAKInput{Number: "PAK-1", OrderNumber: "SO-1",
			Lines: []smartlic.PAKLineInput{{SKU: "L-ESS", Quantity: 10, Fulfilled: []smartlic.FulfillmentInput{{UDI: d.udi, Count: 3}}}}}))

		convert := func(dev *device, lines ...smartlic.ClassicLicense) (smartlic.ConversionAnswer, error) {
			t.Helper()
			env, err := sign.Seal(smartlic.TypeConvertRequest, dev.id, dev.priv, smartlic.ConvertRequest{
				InstanceID: dev.id, UDI: dev.udi, SentAt: f.clock.Now(), Classic: lines})
			if err != nil {
				t.Fatal(err)
			}
			ans, err := f.mgr.ConvertClassic(context.Background(), env)
			if err != nil {
				return smartlic.ConversionAnswer{}, err
			}
			var out smartlic.ConversionAnswer
			keys := must[smartlic.PublicKeySet](t)(f.mgr.PublicKeys(context.Background()))
			if err := sign.Open(ans, smartlic.TypeConversion, sign.NewKeySet(keys.Keys), &out); err != nil {
				t.Fatalf("conversion does not verify: %v", err)
			}
			return out, nil
		}
		ans := must[smartlic.ConversionAnswer](t)(convert(d,
			smartlic.ClassicLicense{SKU: "L-ESS", Count: 5},
			smartlic.ClassicLicense{SKU: "L-ADV", Count: 1},
			smartlic.ClassicLicense{SKU: "L-OLD", Count: 1},
			smartlic.ClassicLicense{SKU: "L-NEVER-HEARD", Count: 1}))
		want := []smartlic.ConversionLine{
			{SKU: "L-ESS", Reported: 5, Converted: 3, LicenseTag: "network-essentials", Quantity: 6, Status: smartlic.Converted},
			{SKU: "L-ADV", Reported: 1, LicenseTag: "network-advantage", Status: smartlic.NoMatchingPAK},
			{SKU: "L-OLD", Reported: 1, Status: smartlic.NotMappable},
			{SKU: "L-NEVER-HEARD", Reported: 1, Status: smartlic.NotMappable},
		}
		if len(ans.Lines) != len(want) {
			t.Fatalf("answer lines = %+v", ans.Lines)
		}
		for i := range want {
			if ans.Lines[i] != want[i] {
				t.Errorf("line %d = %+v, want %+v", i, ans.Lines[i], want[i])
			}
		}
		if ans.VirtualAccount != smartlic.DefaultVAName || ans.InstanceID != d.id {
			t.Errorf("answer about %s/%s", ans.InstanceID, ans.VirtualAccount)
		}
		// Again: idempotent.
		ans = must[smartlic.ConversionAnswer](t)(convert(d, smartlic.ClassicLicense{SKU: "L-ESS", Count: 5}))
		if l := ans.Lines[0]; l.Status != smartlic.AlreadyConverted || l.Converted != 0 {
			t.Fatalf("second report = %+v", l)
		}
		// Another device of the account has nothing fulfilled on it.
		ans = must[smartlic.ConversionAnswer](t)(convert(other, smartlic.ClassicLicense{SKU: "L-ESS", Count: 1}))
		if l := ans.Lines[0]; l.Status != smartlic.NoMatchingPAK {
			t.Fatalf("other device = %+v", l)
		}
		if got := f.purchased(sa.Domain, smartlic.DefaultVAName, "network-essentials"); got != 6 {
			t.Fatalf("purchased = %d, want 6", got)
		}
		// The portal converts the unassigned rest; the device's units are gone.
		res := must[smartlic.ConversionResult](t)(f.mgr.ConvertPAK(f.ctx, sa.Domain, "PAK-1", smartlic.ConvertInput{VA: smartlic.DefaultVAName}))
		if res.Conversions[0].Units != 7 {
			t.Fatalf("portal converted %d, want the 7 left", res.Conversions[0].Units)
		}
		// A request signed by another instance's key is refused.
		env, err := sign.Seal(smartlic.TypeConvertRequest, d.id, other.priv, smartlic.ConvertRequest{
			InstanceID: d.id, UDI: d.udi, SentAt: f.clock.Now(), Classic: []smartlic.ClassicLicense{{SKU: "L-ESS", Count: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.mgr.ConvertClassic(context.Background(), env)
		wantCode(t, err, smartlic.ESignature)
		// An authorization request is not a convert request.
		_, err = f.mgr.ConvertClassic(context.Background(), d.request(t, smartlic.TypeAuthRequest, f.clock.Now(), nil))
		wantCode(t, err, smartlic.ESignature)
		_, err = convert(d, smartlic.ClassicLicense{SKU: "L-ESS", Count: 0})
		wantCode(t, err, smartlic.EInvalid)
	})
}

// TestConcurrentDeviceAndPortalConversions races a device converting its
// fulfilled units against portal conversions of the same line: the line
// never converts more than its quantity, the device never more than its
// fulfillment, and no request fails for anything but already_converted.
func TestConcurrentDeviceAndPortalConversions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		f.classicCatalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		d := newDevice(t, "FOC0001")
		must[smartlic.IDCert](t)(f.register(d, tok))
		must[smartlic.PAK](t)(f.mgr.DepositPAK(f.ctx, sa.Domain, smartlic.PAKInput{Number: "PAK-1", OrderNumber: "SO-1",
			Lines: []smartlic.PAKLineInput{{SKU: "L-ESS", Quantity: 10, Fulfilled: []smartlic.FulfillmentInput{{UDI: d.udi, Count: 4}}}}}))
		var wg sync.WaitGroup
		var deviceUnits atomic.Int64
		start := make(chan struct{})
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%2 == 0 {
					_, err := f.mgr.ConvertPAK(f.ctx, sa.Domain, "PAK-1", smartlic.ConvertInput{VA: smartlic.DefaultVAName,
						Lines: []smartlic.ConvertLineInput{{Line: 1, Quantity: 1}}})
					if err != nil && smartlic.ErrorCode(err) != smartlic.EAlreadyConverted {
						t.Errorf("ConvertPAK: %v", err)
					}
					return
				}
				env, err := sign.Seal(smartlic.TypeConvertRequest, d.id, d.priv, smartlic.ConvertRequest{
					InstanceID: d.id, UDI: d.udi, SentAt: f.clock.Now(), Nonce: fmt.Sprint(i), Classic: []smartlic.ClassicLicense{{SKU: "L-ESS", Count: 4}}})
				if err != nil {
					t.Error(err)
					return
				}
				ans, err := f.mgr.ConvertClassic(context.Background(), env)
				if err != nil {
					t.Errorf("ConvertClassic: %v", err)
					return
				}
				var out smartlic.ConversionAnswer
				if err := smartlic.DecodePayload(ans, &out); err != nil {
					t.Error(err)
					return
				}
				deviceUnits.Add(out.Lines[0].Converted)
			}()
		}
		close(start)
		wg.Wait()
		p := must[smartlic.PAK](t)(f.mgr.GetPAK(f.ctx, sa.Domain, "PAK-1"))
		if p.Lines[0].Converted != 10 || deviceUnits.Load() > 4 || p.Lines[0].Fulfillments[0].Converted > 4 {
			t.Fatalf("line converted %d (want 10), device converted %d (at most 4): %+v", p.Lines[0].Converted, deviceUnits.Load(), p.Lines[0])
		}
		if got := f.purchased(sa.Domain, smartlic.DefaultVAName, "network-essentials"); got != 20 {
			t.Fatalf("purchased = %d, want 20", got)
		}
	})
}
