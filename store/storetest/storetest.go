package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
)

// Run runs every behaviour a smartlic.Store promises as subtests. open
// returns a new, empty store for each subtest; the subtests run in
// parallel.
func Run(t *testing.T, open func(t *testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"SigningKeys", testSigningKeys},
		{"SigningKeyRetirement", testSigningKeyRetirement},
		{"APIKeys", testAPIKeys},
		{"LicenseTypes", testLicenseTypes},
		{"LicenseTypeInUse", testLicenseTypeInUse},
		{"Products", testProducts},
		{"SmartAccounts", testSmartAccounts},
		{"VirtualAccounts", testVirtualAccounts},
		{"VirtualAccountNamesIgnoreCase", testVirtualAccountNamesIgnoreCase},
		{"VirtualAccountContents", testVirtualAccountContents},
		{"DeleteVirtualAccount", testDeleteVirtualAccount},
		{"Deposits", testDeposits},
		{"Pools", testPools},
		{"PoolsInBulk", testPoolsInBulk},
		{"Tokens", testTokens},
		{"ConsumeToken", testConsumeToken},
		{"Instances", testInstances},
		{"InstanceUsage", testInstanceUsage},
		{"Paging", testPaging},
		{"Times", testTimes},
		{"WriteRollsBack", testWriteRollsBack},
		{"WriteRollsBackOnPanic", testWriteRollsBackOnPanic},
		{"ConcurrentWritesStayApart", testConcurrentWritesStayApart},
		{"ReadIsReadOnly", testReadIsReadOnly},
		{"ReadDuringWrite", testReadDuringWrite},
		{"LockSmartAccount", testLockSmartAccount},
		{"ConcurrentConsumeToken", testConcurrentConsumeToken},
		{"ConcurrentAddInUse", testConcurrentAddInUse},
		{"Register", testRegister},
		{"ConcurrentRegister", testConcurrentRegister},
		{"RegistrationScopeCurrent", testRegistrationScopeCurrent},
		{"CatalogChanges", testCatalogChanges},
	})
}

// testCase is one conformance test.
type testCase struct {
	name string
	fn   func(t *testing.T, f *fixture)
}

// runCases runs each case as a parallel subtest on a new, empty store.
func runCases(t *testing.T, open func(*testing.T) smartlic.Store, cases []testCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, &fixture{t: t, st: open(t), now: time.Date(2030, 3, 4, 5, 6, 7, 891011000, time.UTC)})
		})
	}
}

// fixture builds rows through the store under test. Its times are UTC
// and whole microseconds, so what goes in is exactly what must come out.
type fixture struct {
	t   *testing.T
	st  smartlic.Store
	now time.Time
}

func (f *fixture) ctx() context.Context { return f.t.Context() }

func newID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// write runs fn in a write transaction and fails the test on error.
func (f *fixture) write(fn func(ctx context.Context, tx smartlic.Tx) error) {
	f.t.Helper()
	ctx := f.ctx()
	if err := f.st.Write(ctx, func(tx smartlic.Tx) error { return fn(ctx, tx) }); err != nil {
		f.t.Fatalf("Write: %v", err)
	}
}

// read runs fn in a read transaction and fails the test on error.
func (f *fixture) read(fn func(ctx context.Context, tx smartlic.Tx) error) {
	f.t.Helper()
	ctx := f.ctx()
	if err := f.st.Read(ctx, func(tx smartlic.Tx) error { return fn(ctx, tx) }); err != nil {
		f.t.Fatalf("Read: %v", err)
	}
}

// writeErr runs fn in a write transaction and returns its error.
func (f *fixture) writeErr(fn func(ctx context.Context, tx smartlic.Tx) error) error {
	ctx := f.ctx()
	return f.st.Write(ctx, func(tx smartlic.Tx) error { return fn(ctx, tx) })
}

// readErr runs fn in a read transaction and returns its error.
func (f *fixture) readErr(fn func(ctx context.Context, tx smartlic.Tx) error) error {
	ctx := f.ctx()
	return f.st.Read(ctx, func(tx smartlic.Tx) error { return fn(ctx, tx) })
}

func (f *fixture) licenseType(tag string) smartlic.LicenseType {
	f.t.Helper()
	lt := smartlic.LicenseType{
		ID: newID(f.t), Tag: tag, Name: "License " + tag, Description: "about " + tag,
		Term: smartlic.TermSubscription, Enforcement: smartlic.Enforced, CreatedAt: f.now,
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertLicenseType(ctx, lt) })
	return lt
}

func (f *fixture) product(pid string, tags ...string) smartlic.Product {
	f.t.Helper()
	p := smartlic.Product{ID: newID(f.t), PID: pid, Name: "Product " + pid, Description: "a product", LicenseTypes: tags, CreatedAt: f.now}
	if p.LicenseTypes == nil {
		p.LicenseTypes = []string{}
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertProduct(ctx, p) })
	return p
}

func (f *fixture) smartAccount(domain string) smartlic.SmartAccount {
	f.t.Helper()
	sa := smartlic.SmartAccount{ID: newID(f.t), Name: "Account " + domain, Domain: domain, Status: smartlic.SAActive, CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertSmartAccount(ctx, sa) })
	return sa
}

func (f *fixture) virtualAccount(sa smartlic.SmartAccount, parent *smartlic.VirtualAccount, name string) smartlic.VirtualAccount {
	f.t.Helper()
	va := smartlic.VirtualAccount{ID: newID(f.t), SmartAccountID: sa.ID, Name: name, Description: "VA " + name, Depth: 1, CreatedAt: f.now}
	if parent != nil {
		va.ParentID, va.Depth = parent.ID, parent.Depth+1
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertVirtualAccount(ctx, va) })
	return va
}

// account makes a Smart Account with one Virtual Account.
func (f *fixture) account(domain string) (smartlic.SmartAccount, smartlic.VirtualAccount) {
	f.t.Helper()
	sa := f.smartAccount(domain)
	return sa, f.virtualAccount(sa, nil, smartlic.DefaultVAName)
}

func (f *fixture) token(vaID string, maxUses *int64, expiresAt time.Time) smartlic.Token {
	f.t.Helper()
	tok := smartlic.Token{
		ID: newID(f.t), VirtualAccountID: vaID, Description: "token", ExpiresAt: expiresAt, MaxUses: maxUses,
		CreatedAt: f.now, Hash: "hash-" + newID(f.t),
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertToken(ctx, tok) })
	return tok
}

func (f *fixture) deposit(vaID string, lt smartlic.LicenseType, quantity int64, endsAt *time.Time) smartlic.Deposit {
	f.t.Helper()
	d := smartlic.Deposit{
		ID: newID(f.t), VirtualAccountID: vaID, OrderNumber: "ORD-" + newID(f.t)[:8], LicenseTypeID: lt.ID, LicenseTag: lt.Tag,
		Quantity: quantity, StartsAt: f.now, EndsAt: endsAt, CreatedAt: f.now,
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertDeposit(ctx, d) })
	return d
}

func (f *fixture) newInstance(sa smartlic.SmartAccount, va smartlic.VirtualAccount, p smartlic.Product, sn string, usage ...smartlic.Usage) smartlic.Instance {
	f.t.Helper()
	if usage == nil {
		usage = []smartlic.Usage{}
	}
	exp := f.now.Add(smartlic.AuthValidity)
	return smartlic.Instance{
		ID: newID(f.t), SmartAccountID: sa.ID, VirtualAccountID: va.ID, UDI: smartlic.UDI{PID: p.PID, SN: sn},
		Hostname: "host-" + strings.ToLower(sn), ProductID: p.ID, Mode: smartlic.ModeRegistered, AllowExportControlled: true,
		PublicKey: []byte("public-key-" + sn), RegisteredAt: f.now, LastContactAt: f.now.Add(time.Minute),
		AuthorizedAt: &f.now, AuthExpiresAt: &exp, IDCertExpiresAt: f.now.Add(smartlic.IDCertValidity), Usage: usage,
	}
}

func (f *fixture) instance(sa smartlic.SmartAccount, va smartlic.VirtualAccount, p smartlic.Product, sn string, usage ...smartlic.Usage) smartlic.Instance {
	f.t.Helper()
	i := f.newInstance(sa, va, p, sn, usage...)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, i) })
	return i
}

func ptr[T any](v T) *T { return &v }

// wantCode fails the test unless err is a *smartlic.Error with code (and,
// when field is not empty, field).
func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	var e *smartlic.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *smartlic.Error with code %q", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error code = %q (%v), want %q", e.Code, err, code)
	}
	if field != "" && e.Field != field {
		t.Fatalf("error field = %q (%v), want %q", e.Field, err, field)
	}
}

// wantNotFound fails the test unless err is ENotFound naming key.
func wantNotFound(t *testing.T, err error, key string) {
	t.Helper()
	wantCode(t, err, smartlic.ENotFound, "")
	if key != "" && !strings.Contains(smartlic.ErrorMessage(err), fmt.Sprintf("%q", key)) {
		t.Fatalf("not-found message %q does not name %q", smartlic.ErrorMessage(err), key)
	}
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func testSigningKeys(t *testing.T, f *fixture) {
	k1 := smartlic.SigningKey{ID: newID(t), Algorithm: "ed25519", PublicKey: []byte{1, 2, 3}, PrivateKey: []byte{4, 5, 6}, CreatedAt: f.now}
	k2 := smartlic.SigningKey{ID: newID(t), Algorithm: "ed25519", PublicKey: []byte{7}, PrivateKey: []byte{8}, CreatedAt: f.now.Add(time.Hour)}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		keys, err := tx.ListSigningKeys(ctx)
		if len(keys) != 0 {
			t.Fatalf("new store has signing keys: %+v", keys)
		}
		return err
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.InsertSigningKey(ctx, k1); err != nil {
			return err
		}
		return tx.InsertSigningKey(ctx, k2)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		keys, err := tx.ListSigningKeys(ctx)
		wantEqual(t, "signing keys", keys, []smartlic.SigningKey{k1, k2})
		return err
	})
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertSigningKey(ctx, k1) })
	wantCode(t, err, smartlic.EConflict, "id")
}

func testAPIKeys(t *testing.T, f *fixture) {
	k := smartlic.APIKey{ID: newID(t), Email: "ops@example.com", Role: smartlic.RoleOperator, Hash: "h1", CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAPIKey(ctx, k) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetAPIKeyByHash(ctx, "h1")
		wantEqual(t, "API key", got, k)
		return err
	})

	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetAPIKeyByHash(ctx, "nope")
		return err
	})
	wantCode(t, err, smartlic.ENotFound, "")
	if strings.Contains(smartlic.ErrorMessage(err), "nope") {
		t.Errorf("not-found message %q repeats the secret's hash", smartlic.ErrorMessage(err))
	}

	used := f.now.Add(time.Hour)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.TouchAPIKey(ctx, k.ID, used) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetAPIKeyByHash(ctx, "h1")
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
			t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, used)
		}
		return err
	})

	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.TouchAPIKey(ctx, "missing", used) })
	wantNotFound(t, err, "missing")

	dup := k
	dup.ID = newID(t)
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAPIKey(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "hash")
}

func testLicenseTypes(t *testing.T, f *fixture) {
	lt := f.licenseType("network-advantage")
	perpetual := smartlic.LicenseType{ID: newID(t), Tag: "dna", Name: "DNA", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled, CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertLicenseType(ctx, perpetual) })

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		byID, err := tx.GetLicenseType(ctx, lt.ID)
		if err != nil {
			return err
		}
		wantEqual(t, "by id", byID, lt)
		byTag, err := tx.GetLicenseType(ctx, "dna")
		wantEqual(t, "by tag", byTag, perpetual)
		return err
	})

	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetLicenseType(ctx, "nope")
		return err
	})
	wantNotFound(t, err, "nope")

	dup := lt
	dup.ID = newID(t)
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertLicenseType(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "tag")
	if !strings.Contains(smartlic.ErrorMessage(err), `"network-advantage"`) {
		t.Errorf("conflict message %q does not name the tag", smartlic.ErrorMessage(err))
	}

	// An id wins over a tag that happens to spell another license type's id.
	lookalike := f.licenseType(lt.ID)
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetLicenseType(ctx, lt.ID)
		wantEqual(t, "id looked up while a tag spells it", got, lt)
		return err
	})

	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteLicenseType(ctx, lookalike.ID) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetLicenseType(ctx, lookalike.ID); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("deleted license type: err = %v, want not found", err)
		}
		all, err := tx.ListLicenseTypes(ctx, smartlic.Page{Limit: 10})
		wantEqual(t, "license types after delete", ids(all, ltID), sortedIDs(lt.ID, perpetual.ID))
		return err
	})
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteLicenseType(ctx, lookalike.ID) })
	wantNotFound(t, err, lookalike.ID)
}

func testLicenseTypeInUse(t *testing.T, f *fixture) {
	inUse := func(lt smartlic.LicenseType) (used bool) {
		t.Helper()
		f.read(func(ctx context.Context, tx smartlic.Tx) (err error) {
			used, err = tx.LicenseTypeInUse(ctx, lt.ID)
			return err
		})
		return used
	}
	refusesDelete := func(lt smartlic.LicenseType) {
		t.Helper()
		err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteLicenseType(ctx, lt.ID) })
		wantCode(t, err, smartlic.EConflict, "")
	}

	sa, va := f.account("example.com")

	byProduct := f.licenseType("by-product")
	if inUse(byProduct) {
		t.Fatal("unused license type reported in use")
	}
	f.product("P1", "by-product")
	if !inUse(byProduct) {
		t.Error("license type of a product not reported in use")
	}
	refusesDelete(byProduct)

	byDeposit := f.licenseType("by-deposit")
	f.deposit(va.ID, byDeposit, 5, nil)
	if !inUse(byDeposit) {
		t.Error("license type of a deposit not reported in use")
	}
	refusesDelete(byDeposit)

	byUsage := f.licenseType("by-usage")
	bare := f.product("P2")
	inst := f.instance(sa, va, bare, "SN1", smartlic.Usage{LicenseTypeID: byUsage.ID, LicenseTag: byUsage.Tag, Count: 1, Status: smartlic.Authorized})
	if !inUse(byUsage) {
		t.Error("license type in an instance's usage not reported in use")
	}
	refusesDelete(byUsage)

	// A counter back at zero is not a use, and goes with the license type.
	byCounter := f.licenseType("by-counter")
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.AddInUse(ctx, va.ID, byCounter.ID, 2, f.now)
	})
	if !inUse(byCounter) {
		t.Error("license type with licenses in use not reported in use")
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.AddInUse(ctx, va.ID, byCounter.ID, -2, f.now)
	})
	if inUse(byCounter) {
		t.Error("license type whose counter is back at zero reported in use")
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteLicenseType(ctx, byCounter.ID) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		counters, err := tx.PoolCountersOf(ctx, []string{va.ID})
		if len(counters) != 0 {
			t.Errorf("counters of a deleted license type remain: %+v", counters)
		}
		return err
	})

	// Removing the instance frees its license types.
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteInstance(ctx, inst.ID) })
	if inUse(byUsage) {
		t.Error("license type still in use after the only instance using it was deleted")
	}
}

func testProducts(t *testing.T, f *fixture) {
	f.licenseType("b-tag")
	f.licenseType("a-tag")
	f.licenseType("c-tag")
	p := f.product("C9300-24T", "b-tag", "a-tag")
	p.LicenseTypes = []string{"a-tag", "b-tag"} // returned sorted

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		byID, err := tx.GetProduct(ctx, p.ID)
		if err != nil {
			return err
		}
		wantEqual(t, "by id", byID, p)
		byPID, err := tx.GetProduct(ctx, "C9300-24T")
		wantEqual(t, "by PID", byPID, p)
		return err
	})

	empty := f.product("EMPTY")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetProduct(ctx, empty.ID)
		if got.LicenseTypes == nil || len(got.LicenseTypes) != 0 {
			t.Errorf("license types of a product with none = %#v, want an empty list", got.LicenseTypes)
		}
		return err
	})

	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetProduct(ctx, "NOPE")
		return err
	})
	wantNotFound(t, err, "NOPE")

	dup := smartlic.Product{ID: newID(t), PID: "C9300-24T", Name: "again", LicenseTypes: []string{}, CreatedAt: f.now}
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertProduct(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "pid")

	unknown := smartlic.Product{ID: newID(t), PID: "OTHER", Name: "other", LicenseTypes: []string{"a-tag", "no-such-tag"}, CreatedAt: f.now}
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertProduct(ctx, unknown) })
	wantCode(t, err, smartlic.EInvalid, "license_types")
	if !strings.Contains(smartlic.ErrorMessage(err), `"no-such-tag"`) {
		t.Errorf("message %q does not name the unknown tag", smartlic.ErrorMessage(err))
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetProduct(ctx, "OTHER"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("product with an unknown tag was stored: err = %v", err)
		}
		return nil
	})

	// An id wins over a PID that happens to spell another product's id.
	lookalike := smartlic.Product{ID: newID(t), PID: p.ID, Name: "lookalike", LicenseTypes: []string{"c-tag"}, CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertProduct(ctx, lookalike) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetProduct(ctx, p.ID)
		wantEqual(t, "id looked up while a PID spells it", got, p)
		return err
	})

	p.Name, p.Description, p.LicenseTypes = "Renamed", "new words", []string{"c-tag", "a-tag"}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateProduct(ctx, p) })
	p.LicenseTypes = []string{"a-tag", "c-tag"}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetProduct(ctx, p.ID)
		wantEqual(t, "updated product", got, p)
		return err
	})
	bad := p
	bad.LicenseTypes = []string{"no-such-tag"}
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateProduct(ctx, bad) })
	wantCode(t, err, smartlic.EInvalid, "license_types")
	missing := p
	missing.ID = newID(t)
	missing.PID = "MISSING"
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateProduct(ctx, missing) })
	wantNotFound(t, err, missing.ID)
	taken := p
	taken.PID = "EMPTY"
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateProduct(ctx, taken) })
	wantCode(t, err, smartlic.EConflict, "pid")

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListProducts(ctx, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		for _, got := range list {
			if got.ID == p.ID {
				wantEqual(t, "listed product", got, p)
			}
			if got.LicenseTypes == nil {
				t.Errorf("listed product %s has nil license types", got.PID)
			}
		}
		if len(list) != 3 {
			t.Errorf("listed %d products, want 3", len(list))
		}
		return nil
	})

	// In use by an instance: the product stays.
	sa, va := f.account("example.com")
	inst := f.instance(sa, va, p, "SN1")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		used, err := tx.ProductInUse(ctx, p.ID)
		if !used {
			t.Error("product of an instance not reported in use")
		}
		if other, _ := tx.ProductInUse(ctx, empty.ID); other {
			t.Error("product without instances reported in use")
		}
		return err
	})
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteProduct(ctx, p.ID) })
	wantCode(t, err, smartlic.EConflict, "")

	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.DeleteInstance(ctx, inst.ID); err != nil {
			return err
		}
		return tx.DeleteProduct(ctx, p.ID)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		// With the product gone, its id now finds the product whose PID
		// spells it.
		got, err := tx.GetProduct(ctx, p.ID)
		if err != nil || got.ID != lookalike.ID {
			t.Errorf("deleted product's id: got %+v, %v; want the lookalike", got, err)
		}
		lt, err := tx.GetLicenseType(ctx, "a-tag")
		if err != nil {
			return err
		}
		// The links went with the product.
		used, err := tx.LicenseTypeInUse(ctx, lt.ID)
		if used {
			t.Error("license type still linked to a deleted product")
		}
		return err
	})
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteProduct(ctx, p.ID) })
	wantNotFound(t, err, p.ID)
}

func testSmartAccounts(t *testing.T, f *fixture) {
	sa := f.smartAccount("example.com")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		byID, err := tx.GetSmartAccount(ctx, sa.ID)
		if err != nil {
			return err
		}
		wantEqual(t, "by id", byID, sa)
		byDomain, err := tx.GetSmartAccount(ctx, "example.com")
		wantEqual(t, "by domain", byDomain, sa)
		return err
	})
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetSmartAccount(ctx, "nope.example")
		return err
	})
	wantNotFound(t, err, "nope.example")

	// An id wins over a domain that happens to spell another account's id.
	spoof := f.smartAccount(sa.ID)
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetSmartAccount(ctx, sa.ID)
		wantEqual(t, "id that is also a domain", got, sa)
		if err != nil {
			return err
		}
		got, err = tx.GetSmartAccount(ctx, spoof.ID)
		wantEqual(t, "the other account by its id", got, spoof)
		return err
	})

	dup := sa
	dup.ID = newID(t)
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertSmartAccount(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "domain")

	other := f.smartAccount("other.example")
	sa.Name, sa.LimitedUse, sa.Status = "Renamed", true, smartlic.SARequested
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateSmartAccount(ctx, sa) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetSmartAccount(ctx, sa.ID)
		wantEqual(t, "updated", got, sa)
		return err
	})
	taken := sa
	taken.Domain = other.Domain
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateSmartAccount(ctx, taken) })
	wantCode(t, err, smartlic.EConflict, "domain")
	missing := sa
	missing.ID, missing.Domain = newID(t), "missing.example"
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateSmartAccount(ctx, missing) })
	wantNotFound(t, err, missing.ID)

	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.LockSmartAccount(ctx, sa.ID) })
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.LockSmartAccount(ctx, "missing") })
	wantNotFound(t, err, "missing")
}

func testVirtualAccounts(t *testing.T, f *fixture) {
	sa, def := f.account("example.com")
	eng := f.virtualAccount(sa, nil, "Engineering")
	lab := f.virtualAccount(sa, &eng, "Lab")
	otherSA, otherDef := f.account("other.example")

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		byID, err := tx.GetVirtualAccount(ctx, sa.ID, lab.ID)
		if err != nil {
			return err
		}
		wantEqual(t, "by id", byID, lab)
		if lab.ParentID != eng.ID || lab.Depth != 2 {
			t.Fatalf("fixture: lab = %+v", lab)
		}
		byName, err := tx.GetVirtualAccount(ctx, sa.ID, "Engineering")
		if err != nil {
			return err
		}
		wantEqual(t, "by name", byName, eng)
		byGlobalID, err := tx.GetVirtualAccountByID(ctx, otherDef.ID)
		wantEqual(t, "by id alone", byGlobalID, otherDef)
		return err
	})

	// Another account's VA is not found through this one, by id or name.
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetVirtualAccount(ctx, sa.ID, otherDef.ID)
		return err
	})
	wantNotFound(t, err, otherDef.ID)
	err = f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetVirtualAccount(ctx, otherSA.ID, "Engineering")
		return err
	})
	wantNotFound(t, err, "Engineering")
	err = f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetVirtualAccountByID(ctx, "missing")
		return err
	})
	wantNotFound(t, err, "missing")

	// Names are unique within an account, not across accounts.
	dup := smartlic.VirtualAccount{ID: newID(t), SmartAccountID: sa.ID, Name: "Lab", Depth: 1, CreatedAt: f.now}
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertVirtualAccount(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "name")
	f.virtualAccount(otherSA, nil, "Lab")

	// An id wins over a name that happens to spell another VA's id.
	lookalike := f.virtualAccount(sa, nil, eng.ID)
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetVirtualAccount(ctx, sa.ID, eng.ID)
		wantEqual(t, "id looked up while a name spells it", got, eng)
		return err
	})

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		all, err := tx.AllVirtualAccounts(ctx, sa.ID)
		if err != nil {
			return err
		}
		wantEqual(t, "whole tree", all, sortedBy([]smartlic.VirtualAccount{def, eng, lab, lookalike}, vaID))
		page, err := tx.ListVirtualAccounts(ctx, sa.ID, smartlic.Page{Limit: 2})
		wantEqual(t, "first page", page, all[:2])
		return err
	})

	// Move Lab to the top level and rename it.
	lab.ParentID, lab.Depth, lab.Name, lab.Description = "", 1, "Top Lab", "moved"
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, lab) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetVirtualAccount(ctx, sa.ID, "Top Lab")
		wantEqual(t, "moved", got, lab)
		return err
	})
	// And back under Engineering.
	lab.ParentID, lab.Depth = eng.ID, 2
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, lab) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetVirtualAccountByID(ctx, lab.ID)
		wantEqual(t, "moved back", got, lab)
		return err
	})
	taken := lab
	taken.Name = "Engineering"
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, taken) })
	wantCode(t, err, smartlic.EConflict, "name")
	missing := lab
	missing.ID, missing.Name = newID(t), "Missing"
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, missing) })
	wantNotFound(t, err, missing.ID)
	orphan := smartlic.VirtualAccount{ID: newID(t), SmartAccountID: sa.ID, ParentID: "no-such-parent", Name: "Orphan", Depth: 2, CreatedAt: f.now}
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertVirtualAccount(ctx, orphan) })
	wantCode(t, err, smartlic.ENotFound, "")
}

func testVirtualAccountContents(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	contents := func(id string) (c smartlic.VAContents) {
		t.Helper()
		f.read(func(ctx context.Context, tx smartlic.Tx) (err error) {
			c, err = tx.VirtualAccountContents(ctx, id, f.now)
			return err
		})
		return c
	}
	if c := contents(va.ID); !c.Empty() {
		t.Fatalf("new VA holds %+v", c)
	}

	f.virtualAccount(sa, &va, "child-1")
	f.virtualAccount(sa, &va, "child-2")
	lt := f.licenseType("lt")
	f.deposit(va.ID, lt, 10, nil)
	p := f.product("P")
	f.instance(sa, va, p, "SN1")
	f.instance(sa, va, p, "SN2")
	f.instance(sa, va, p, "SN3")

	f.token(va.ID, nil, f.now.Add(time.Hour))                        // usable
	f.token(va.ID, ptr(int64(5)), f.now.Add(smartlic.Day))           // usable, uses left
	f.token(va.ID, nil, f.now)                                       // expired exactly now
	f.token(va.ID, nil, f.now.Add(-time.Hour))                       // expired
	revoked := f.token(va.ID, nil, f.now.Add(time.Hour))             // revoked below
	exhausted := f.token(va.ID, ptr(int64(1)), f.now.Add(time.Hour)) // used up below
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.RevokeToken(ctx, revoked.ID, f.now); err != nil {
			return err
		}
		_, ok, err := tx.ConsumeToken(ctx, exhausted.Hash, f.now)
		if !ok {
			t.Fatal("fixture: could not use the token")
		}
		return err
	})

	want := smartlic.VAContents{Children: 2, Deposits: 1, Tokens: 2, Instances: 3}
	wantEqual(t, "contents", contents(va.ID), want)

	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.VirtualAccountContents(ctx, "missing", f.now)
		return err
	})
	wantNotFound(t, err, "missing")
}

func testDeleteVirtualAccount(t *testing.T, f *fixture) {
	sa, def := f.account("example.com")
	va := f.virtualAccount(sa, nil, "Doomed")
	lt := f.licenseType("lt")
	tok := f.token(va.ID, nil, f.now.Add(time.Hour))
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.AddInUse(ctx, va.ID, lt.ID, 0, f.now); err != nil {
			return err
		}
		return tx.AddInUse(ctx, def.ID, lt.ID, 3, f.now)
	})

	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteVirtualAccount(ctx, va.ID) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetVirtualAccountByID(ctx, va.ID); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("deleted VA: err = %v, want not found", err)
		}
		if _, err := tx.GetToken(ctx, tok.ID); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("token of a deleted VA: err = %v, want not found", err)
		}
		counters, err := tx.PoolCountersOf(ctx, []string{va.ID, def.ID})
		wantEqual(t, "counters after delete", counters, []smartlic.PoolCounter{{VirtualAccountID: def.ID, LicenseTypeID: lt.ID, InUse: 3}})
		return err
	})
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteVirtualAccount(ctx, va.ID) })
	wantNotFound(t, err, va.ID)

	// Children, deposits and instances are not deleted along with a VA.
	parent := f.virtualAccount(sa, nil, "Parent")
	f.virtualAccount(sa, &parent, "Child")
	withDeposit := f.virtualAccount(sa, nil, "Deposit")
	f.deposit(withDeposit.ID, lt, 1, nil)
	withInstance := f.virtualAccount(sa, nil, "Instance")
	f.instance(sa, withInstance, f.product("P"), "SN")
	for _, full := range []smartlic.VirtualAccount{parent, withDeposit, withInstance} {
		err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteVirtualAccount(ctx, full.ID) })
		wantCode(t, err, smartlic.ENotEmpty, "")
	}
}

func testDeposits(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	other := f.virtualAccount(sa, nil, "Other")
	perpetual := f.licenseType("perpetual")
	sub := f.licenseType("sub")
	end := f.now.Add(365 * smartlic.Day)
	d1 := f.deposit(va.ID, perpetual, 10, nil)
	d2 := f.deposit(va.ID, sub, 20, &end)
	d3 := f.deposit(other.ID, sub, 30, &end)

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListDeposits(ctx, va.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		wantEqual(t, "deposits of the VA", list, []smartlic.Deposit{d1, d2})
		of, err := tx.DepositsOf(ctx, []string{va.ID, other.ID})
		if err != nil {
			return err
		}
		wantEqual(t, "deposits of both VAs", of, []smartlic.Deposit{d1, d2, d3})
		none, err := tx.DepositsOf(ctx, nil)
		if none != nil {
			t.Errorf("DepositsOf(nil) = %+v, want nil", none)
		}
		return err
	})

	// One VA's pools of some license types: only those deposits and
	// counters, not the VA's other types', not another VA's.
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.AddInUse(ctx, va.ID, sub.ID, 4, f.now); err != nil {
			return err
		}
		if err := tx.AddInUse(ctx, va.ID, perpetual.ID, 2, f.now); err != nil {
			return err
		}
		return tx.AddInUse(ctx, other.ID, sub.ID, 7, f.now)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		deposits, counters, err := tx.PoolStateOf(ctx, va.ID, []string{sub.ID})
		if err != nil {
			return err
		}
		wantEqual(t, "deposits of the VA's sub pool", deposits, []smartlic.Deposit{d2})
		wantEqual(t, "counters of the VA's sub pool", counters, []smartlic.PoolCounter{{VirtualAccountID: va.ID, LicenseTypeID: sub.ID, InUse: 4}})
		deposits, counters, err = tx.PoolStateOf(ctx, va.ID, nil)
		if deposits != nil || counters != nil {
			t.Errorf("PoolStateOf of no types = %+v, %+v; want nothing", deposits, counters)
		}
		return err
	})

	bad := smartlic.Deposit{ID: newID(t), VirtualAccountID: "missing", LicenseTypeID: sub.ID, Quantity: 1, StartsAt: f.now, CreatedAt: f.now}
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertDeposit(ctx, bad) })
	wantCode(t, err, smartlic.ENotFound, "")
	dup := d1
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertDeposit(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "id")
}

func testPools(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	other := f.virtualAccount(sa, nil, "Other")
	unrelated := f.virtualAccount(sa, nil, "Unrelated")
	a := f.licenseType("a")
	b := f.licenseType("b")
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		for _, c := range []struct {
			va, lt string
			delta  int64
		}{{va.ID, a.ID, 3}, {va.ID, a.ID, 4}, {va.ID, b.ID, 1}, {other.ID, a.ID, 5}, {other.ID, a.ID, -2}, {unrelated.ID, a.ID, 9}} {
			if err := tx.AddInUse(ctx, c.va, c.lt, c.delta, f.now); err != nil {
				return err
			}
		}
		return nil
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.PoolCountersOf(ctx, []string{va.ID, other.ID})
		if err != nil {
			return err
		}
		want := []smartlic.PoolCounter{
			{VirtualAccountID: va.ID, LicenseTypeID: a.ID, InUse: 7},
			{VirtualAccountID: va.ID, LicenseTypeID: b.ID, InUse: 1},
			{VirtualAccountID: other.ID, LicenseTypeID: a.ID, InUse: 3},
		}
		sortCounters(want)
		wantEqual(t, "counters", got, want)
		none, err := tx.PoolCountersOf(ctx, []string{})
		if none != nil {
			t.Errorf("PoolCountersOf([]) = %+v, want nil", none)
		}
		return err
	})
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.AddInUse(ctx, va.ID, "missing", 1, f.now) })
	wantCode(t, err, smartlic.ENotFound, "")
}

// testPoolsInBulk: LockPools and AddInUseAll of more pools than one
// statement holds, named in any order, answer and move each pool as
// LockPool and AddInUse of one at a time would, history included; a list
// that cannot be written leaves every counter as it was.
func testPoolsInBulk(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	other := f.virtualAccount(sa, nil, "Other")
	var keys []smartlic.PoolKey
	for i := range 35 {
		lt := f.licenseType(fmt.Sprintf("bulk-%02d", i))
		keys = append(keys, smartlic.PoolKey{VirtualAccountID: other.ID, LicenseTypeID: lt.ID}, smartlic.PoolKey{VirtualAccountID: va.ID, LicenseTypeID: lt.ID})
	}
	// Every third pool has a counter already.
	want := map[smartlic.PoolKey]int64{}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		for i, k := range keys {
			if i%3 == 0 {
				want[k] = int64(i + 1)
				if err := tx.AddInUse(ctx, k.VirtualAccountID, k.LicenseTypeID, int64(i+1), f.now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	counters := func() []smartlic.PoolCounter {
		out := make([]smartlic.PoolCounter, 0, len(want))
		for k, n := range want {
			out = append(out, smartlic.PoolCounter{VirtualAccountID: k.VirtualAccountID, LicenseTypeID: k.LicenseTypeID, InUse: n})
		}
		sortCounters(out)
		return out
	}

	// Locked pools come back once each, in order, missing ones created.
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.LockPools(ctx, append(slices.Clone(keys), keys[3], keys[4]))
		for _, k := range keys {
			if _, ok := want[k]; !ok {
				want[k] = 0 // created
			}
		}
		wantEqual(t, "locked pools", got, counters())
		return err
	})

	// LockPoolStates locks the same and answers the deposits of those
	// pools, of both Virtual Accounts, as PoolStateOf reads them; not the
	// deposits of a pool it was not asked for.
	for i, k := range keys[:12] {
		f.deposit(k.VirtualAccountID, smartlic.LicenseType{ID: k.LicenseTypeID}, int64(10+i), nil)
	}
	unasked := f.deposit(va.ID, f.licenseType("bulk-unasked"), 99, nil)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		deposits, got, err := tx.LockPoolStates(ctx, keys)
		if err != nil {
			return err
		}
		wantEqual(t, "pools locked with their state", got, counters())
		var read []smartlic.Deposit
		for _, vaID := range []string{va.ID, other.ID} {
			var types []string
			for _, k := range keys {
				if k.VirtualAccountID == vaID {
					types = append(types, k.LicenseTypeID)
				}
			}
			d, _, err := tx.PoolStateOf(ctx, vaID, types)
			if err != nil {
				return err
			}
			read = append(read, d...)
		}
		slices.SortFunc(read, func(a, b smartlic.Deposit) int { return strings.Compare(a.ID, b.ID) })
		if len(deposits) != 12 || slices.ContainsFunc(deposits, func(d smartlic.Deposit) bool { return d.ID == unasked.ID }) {
			t.Errorf("LockPoolStates answered %d deposits, want the 12 of the pools asked for", len(deposits))
		}
		wantEqual(t, "deposits of the locked pools", deposits, read)
		return nil
	})

	// Moves, one a zero, dated an hour later.
	later := f.now.Add(time.Hour)
	var moves []smartlic.PoolMove
	var history []smartlic.PoolCounter
	for i, k := range keys {
		d := int64(i%5) - 1
		moves = append(moves, smartlic.PoolMove{PoolKey: k, Delta: d, At: later})
		want[k] += d
		if d != 0 {
			history = append(history, smartlic.PoolCounter{VirtualAccountID: k.VirtualAccountID, LicenseTypeID: k.LicenseTypeID, InUse: want[k]})
		}
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.AddInUseAll(ctx, moves) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.PoolCountersOf(ctx, []string{va.ID, other.ID})
		wantEqual(t, "counters after AddInUseAll", got, counters())
		if err != nil {
			return err
		}
		at, err := tx.InUseAt(ctx, []string{va.ID, other.ID}, later)
		var moved []smartlic.PoolCounter
		for _, c := range at {
			for _, h := range history {
				if h.VirtualAccountID == c.VirtualAccountID && h.LicenseTypeID == c.LicenseTypeID {
					moved = append(moved, c)
				}
			}
		}
		sortCounters(history)
		wantEqual(t, "history of the moved pools", moved, history)
		return err
	})

	before := counters()
	for _, tc := range []struct {
		what string
		fn   func(ctx context.Context, tx smartlic.Tx) error
		code string
	}{
		{"a pool moved twice", func(ctx context.Context, tx smartlic.Tx) error {
			return tx.AddInUseAll(ctx, append(slices.Clone(moves), moves[7]))
		}, smartlic.EInvalid},
		{"a missing license type moved", func(ctx context.Context, tx smartlic.Tx) error {
			return tx.AddInUseAll(ctx, append(slices.Clone(moves), smartlic.PoolMove{PoolKey: smartlic.PoolKey{VirtualAccountID: va.ID, LicenseTypeID: newID(t)}, Delta: 1, At: later}))
		}, smartlic.ENotFound},
		{"a missing license type locked", func(ctx context.Context, tx smartlic.Tx) error {
			if err := tx.AddInUseAll(ctx, moves); err != nil {
				return err
			}
			_, err := tx.LockPools(ctx, []smartlic.PoolKey{keys[0], {VirtualAccountID: va.ID, LicenseTypeID: newID(t)}})
			return err
		}, smartlic.ENotFound},
	} {
		err := f.writeErr(tc.fn)
		if smartlic.ErrorCode(err) != tc.code {
			t.Fatalf("%s: err = %v, want code %s", tc.what, err, tc.code)
		}
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.PoolCountersOf(ctx, []string{va.ID, other.ID})
		wantEqual(t, "counters after refused moves", got, before)
		return err
	})
}

func testTokens(t *testing.T, f *fixture) {
	_, va := f.account("example.com")
	tok := smartlic.Token{
		ID: newID(t), VirtualAccountID: va.ID, Description: "for the lab", ExpiresAt: f.now.Add(30 * smartlic.Day),
		MaxUses: ptr(int64(3)), AllowExportControlled: true, CreatedAt: f.now, Hash: "secret-hash",
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertToken(ctx, tok) })
	unlimited := f.token(va.ID, nil, f.now.Add(time.Hour))

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		byID, err := tx.GetToken(ctx, tok.ID)
		if err != nil {
			return err
		}
		wantEqual(t, "by id", byID, tok)
		byHash, err := tx.GetTokenByHash(ctx, "secret-hash")
		if err != nil {
			return err
		}
		wantEqual(t, "by hash", byHash, tok)
		list, err := tx.ListTokens(ctx, va.ID, smartlic.Page{Limit: 10})
		wantEqual(t, "list", list, sortedBy([]smartlic.Token{tok, unlimited}, tokID))
		return err
	})
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetToken(ctx, "missing")
		return err
	})
	wantNotFound(t, err, "missing")
	err = f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetTokenByHash(ctx, "missing-hash")
		return err
	})
	wantCode(t, err, smartlic.ENotFound, "")

	dup := tok
	dup.ID = newID(t)
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertToken(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "hash")

	// The first revocation is the one that counts.
	first, second := f.now.Add(time.Minute), f.now.Add(time.Hour)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.RevokeToken(ctx, tok.ID, first); err != nil {
			return err
		}
		return tx.RevokeToken(ctx, tok.ID, second)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetToken(ctx, tok.ID)
		if got.RevokedAt == nil || !got.RevokedAt.Equal(first) {
			t.Errorf("RevokedAt = %v, want %v", got.RevokedAt, first)
		}
		return err
	})
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.RevokeToken(ctx, "missing", first) })
	wantNotFound(t, err, "missing")
}

func testConsumeToken(t *testing.T, f *fixture) {
	_, va := f.account("example.com")
	consume := func(hash string, now time.Time) (smartlic.Token, bool) {
		t.Helper()
		var (
			tok smartlic.Token
			ok  bool
		)
		f.write(func(ctx context.Context, tx smartlic.Tx) (err error) {
			tok, ok, err = tx.ConsumeToken(ctx, hash, now)
			return err
		})
		return tok, ok
	}

	limited := f.token(va.ID, ptr(int64(2)), f.now.Add(time.Hour))
	for want := int64(1); want <= 2; want++ {
		tok, ok := consume(limited.Hash, f.now)
		if !ok || tok.Uses != want || tok.ID != limited.ID {
			t.Fatalf("use %d: ok = %v, token = %+v", want, ok, tok)
		}
	}
	if _, ok := consume(limited.Hash, f.now); ok {
		t.Error("exhausted token was used a third time")
	}

	unlimited := f.token(va.ID, nil, f.now.Add(time.Hour))
	for i := 1; i <= 25; i++ {
		if tok, ok := consume(unlimited.Hash, f.now); !ok || tok.Uses != int64(i) {
			t.Fatalf("unlimited token, use %d: ok = %v, uses = %d", i, ok, tok.Uses)
		}
	}

	expiring := f.token(va.ID, nil, f.now.Add(time.Hour))
	if _, ok := consume(expiring.Hash, expiring.ExpiresAt.Add(-time.Microsecond)); !ok {
		t.Error("token refused a microsecond before it expires")
	}
	if _, ok := consume(expiring.Hash, expiring.ExpiresAt); ok {
		t.Error("token used at the moment it expires")
	}
	if _, ok := consume(expiring.Hash, expiring.ExpiresAt.Add(time.Hour)); ok {
		t.Error("expired token used")
	}

	revoked := f.token(va.ID, nil, f.now.Add(time.Hour))
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.RevokeToken(ctx, revoked.ID, f.now) })
	if _, ok := consume(revoked.Hash, f.now); ok {
		t.Error("revoked token used")
	}

	if tok, ok := consume("no-such-hash", f.now); ok || tok.ID != "" {
		t.Errorf("unknown token: ok = %v, token = %+v", ok, tok)
	}

	// Refused claims leave the counters alone.
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		for _, c := range []struct {
			tok  smartlic.Token
			uses int64
		}{{limited, 2}, {expiring, 1}, {revoked, 0}} {
			got, err := tx.GetToken(ctx, c.tok.ID)
			if err != nil {
				return err
			}
			if got.Uses != c.uses {
				t.Errorf("token %s: uses = %d, want %d", c.tok.ID, got.Uses, c.uses)
			}
		}
		return nil
	})
}

func testInstances(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	other := f.virtualAccount(sa, nil, "Other")
	p := f.product("C9300-24T")
	q := f.product("ISR4331")
	lt := f.licenseType("network-advantage")
	inst := f.instance(sa, va, p, "FOC1", smartlic.Usage{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: 2, Status: smartlic.Authorized})
	bare := f.newInstance(sa, va, p, "FOC2")
	bare.AuthorizedAt, bare.AuthExpiresAt, bare.PublicKey, bare.Mode = nil, nil, nil, smartlic.ModePolicy
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, bare) })

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		byID, err := tx.GetInstance(ctx, inst.ID)
		if err != nil {
			return err
		}
		wantEqual(t, "by id", byID, inst)
		byUDI, err := tx.GetInstanceByUDI(ctx, inst.UDI)
		if err != nil {
			return err
		}
		wantEqual(t, "by UDI", byUDI, inst)
		got, err := tx.GetInstance(ctx, bare.ID)
		wantEqual(t, "instance with nothing optional", got, bare)
		return err
	})
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetInstance(ctx, "missing")
		return err
	})
	wantNotFound(t, err, "missing")
	err = f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetInstanceByUDI(ctx, smartlic.UDI{PID: "C9300-24T", SN: "NOPE"})
		return err
	})
	wantNotFound(t, err, "C9300-24T:NOPE")

	// The UDI is unique; the same serial number under another PID is
	// another device.
	dup := f.newInstance(sa, other, p, "FOC1")
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, dup) })
	wantCode(t, err, smartlic.EConflict, "udi")
	f.instance(sa, va, q, "FOC1")

	badRef := f.newInstance(sa, va, p, "FOC9")
	badRef.ProductID = "missing"
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, badRef) })
	wantCode(t, err, smartlic.ENotFound, "")

	// Update writes everything but the usage lines.
	later := f.now.Add(48 * time.Hour)
	upd := inst
	upd.VirtualAccountID, upd.Hostname, upd.Mode, upd.AllowExportControlled = other.ID, "renamed", smartlic.ModeReserved, false
	upd.PublicKey, upd.LastContactAt, upd.AuthorizedAt, upd.AuthExpiresAt = []byte("new-key"), later, &later, nil
	upd.IDCertExpiresAt = later.Add(smartlic.IDCertValidity)
	upd.Usage = nil
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateInstance(ctx, upd) })
	upd.Usage = inst.Usage
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetInstance(ctx, inst.ID)
		wantEqual(t, "updated", got, upd)
		return err
	})
	taken := upd
	taken.UDI = bare.UDI
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateInstance(ctx, taken) })
	wantCode(t, err, smartlic.EConflict, "udi")
	missing := upd
	missing.ID, missing.UDI.SN = newID(t), "MISSING"
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateInstance(ctx, missing) })
	wantNotFound(t, err, missing.ID)

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListInstances(ctx, other.ID, smartlic.Page{Limit: 10})
		wantEqual(t, "instances of the other VA", list, []smartlic.Instance{upd})
		return err
	})

	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteInstance(ctx, inst.ID) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetInstanceByUDI(ctx, inst.UDI); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("deleted instance: err = %v, want not found", err)
		}
		return nil
	})
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteInstance(ctx, inst.ID) })
	wantNotFound(t, err, inst.ID)
	// Its UDI is free again.
	f.instance(sa, va, p, "FOC1")
}

func testInstanceUsage(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("P")
	a, b, c := f.licenseType("a-tag"), f.licenseType("b-tag"), f.licenseType("c-tag")
	ua := smartlic.Usage{LicenseTypeID: a.ID, LicenseTag: a.Tag, Count: 1, Status: smartlic.Authorized}
	ub := smartlic.Usage{LicenseTypeID: b.ID, LicenseTag: b.Tag, Count: 2, Status: smartlic.OutOfCompliance}
	uc := smartlic.Usage{LicenseTypeID: c.ID, LicenseTag: c.Tag, Count: 3, Status: smartlic.NotAuthorized}
	// Lines come back ordered by tag, whatever order they went in.
	i1 := f.instance(sa, va, p, "SN1", ub, ua)
	i1.Usage = []smartlic.Usage{ua, ub}
	i2 := f.instance(sa, va, p, "SN2")
	i3 := f.instance(sa, va, p, "SN3", uc)

	usageOf := func(id string) (u []smartlic.Usage) {
		t.Helper()
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			inst, err := tx.GetInstance(ctx, id)
			u = inst.Usage
			return err
		})
		return u
	}
	wantEqual(t, "usage of SN1", usageOf(i1.ID), []smartlic.Usage{ua, ub})
	wantEqual(t, "usage of SN2", usageOf(i2.ID), []smartlic.Usage{})

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListInstances(ctx, va.ID, smartlic.Page{Limit: 10})
		wantEqual(t, "listed with usage", list, sortedBy([]smartlic.Instance{i1, i2, i3}, instID))
		return err
	})

	// Replace, then clear.
	ua2 := ua
	ua2.Count, ua2.Status = 7, smartlic.OutOfCompliance
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.SetUsage(ctx, i1.ID, []smartlic.Usage{uc, ua2})
	})
	wantEqual(t, "replaced", usageOf(i1.ID), []smartlic.Usage{ua2, uc})
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.SetUsage(ctx, i1.ID, nil) })
	wantEqual(t, "cleared", usageOf(i1.ID), []smartlic.Usage{})
	// The other instances are untouched.
	wantEqual(t, "usage of SN3", usageOf(i3.ID), []smartlic.Usage{uc})

	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.SetUsage(ctx, i1.ID, []smartlic.Usage{ua, ua})
	})
	wantCode(t, err, smartlic.EInvalid, "usage")
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.SetUsage(ctx, i1.ID, []smartlic.Usage{{LicenseTypeID: "missing", LicenseTag: "x", Count: 1}})
	})
	wantCode(t, err, smartlic.ENotFound, "")
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.SetUsage(ctx, "missing", []smartlic.Usage{ua})
	})
	wantCode(t, err, smartlic.ENotFound, "")
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.SetUsage(ctx, "missing", nil) })
	wantNotFound(t, err, "missing")
}

// testPaging walks every paged list in pages of two and checks that the
// pages are the whole list in id order, each item once.
func testPaging(t *testing.T, f *fixture) {
	const n = 5
	sa, va := f.account("example.com")
	p := f.product("P")
	lt := f.licenseType("lt")
	var want struct{ lts, products, sas, vas, deposits, tokens, instances []string }
	want.lts = append(want.lts, lt.ID)
	want.products = append(want.products, p.ID)
	want.sas = append(want.sas, sa.ID)
	want.vas = append(want.vas, va.ID)
	for i := range n {
		want.lts = append(want.lts, f.licenseType(fmt.Sprintf("lt-%d", i)).ID)
		want.products = append(want.products, f.product(fmt.Sprintf("P%d", i)).ID)
		want.sas = append(want.sas, f.smartAccount(fmt.Sprintf("a%d.example", i)).ID)
		want.vas = append(want.vas, f.virtualAccount(sa, nil, fmt.Sprintf("VA %d", i)).ID)
		want.deposits = append(want.deposits, f.deposit(va.ID, lt, 1, nil).ID)
		want.tokens = append(want.tokens, f.token(va.ID, nil, f.now.Add(time.Hour)).ID)
		want.instances = append(want.instances, f.instance(sa, va, p, fmt.Sprintf("SN%d", i)).ID)
	}
	// Rows of another VA and account stay out of the lists.
	otherSA, otherVA := f.account("other.example")
	f.deposit(otherVA.ID, lt, 1, nil)
	f.token(otherVA.ID, nil, f.now.Add(time.Hour))
	f.instance(otherSA, otherVA, p, "OTHER")
	want.sas = append(want.sas, otherSA.ID)

	walk := func(name string, want []string, list func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error)) {
		t.Helper()
		slices.Sort(want)
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatalf("%s: paging does not end", name)
			}
			var page []string
			f.read(func(ctx context.Context, tx smartlic.Tx) (err error) {
				page, err = list(ctx, tx, smartlic.Page{Limit: 2, After: after})
				return err
			})
			if len(page) > 2 {
				t.Fatalf("%s: page of %d items for a limit of 2", name, len(page))
			}
			got = append(got, page...)
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1]
		}
		wantEqual(t, name+" walked in pages", got, want)
	}
	walk("license types", want.lts, func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error) {
		l, err := tx.ListLicenseTypes(ctx, p)
		return ids(l, ltID), err
	})
	walk("products", want.products, func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error) {
		l, err := tx.ListProducts(ctx, p)
		return ids(l, func(p smartlic.Product) string { return p.ID }), err
	})
	walk("smart accounts", want.sas, func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error) {
		l, err := tx.ListSmartAccounts(ctx, "", p)
		return ids(l, func(sa smartlic.SmartAccount) string { return sa.ID }), err
	})
	walk("virtual accounts", want.vas, func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error) {
		l, err := tx.ListVirtualAccounts(ctx, sa.ID, p)
		return ids(l, vaID), err
	})
	walk("deposits", want.deposits, func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error) {
		l, err := tx.ListDeposits(ctx, va.ID, p)
		return ids(l, func(d smartlic.Deposit) string { return d.ID }), err
	})
	walk("tokens", want.tokens, func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error) {
		l, err := tx.ListTokens(ctx, va.ID, p)
		return ids(l, tokID), err
	})
	walk("instances", want.instances, func(ctx context.Context, tx smartlic.Tx, p smartlic.Page) ([]string, error) {
		l, err := tx.ListInstances(ctx, va.ID, p)
		return ids(l, instID), err
	})

	// A limit larger than the list returns it all; a cursor past the end
	// returns an empty list, not a missing one.
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		all, err := tx.ListLicenseTypes(ctx, smartlic.Page{Limit: smartlic.MaxPageLimit + 1})
		if err != nil {
			return err
		}
		if len(all) != len(want.lts) {
			t.Errorf("large limit: %d license types, want %d", len(all), len(want.lts))
		}
		none, err := tx.ListTokens(ctx, va.ID, smartlic.Page{Limit: 2, After: "~"})
		if none == nil || len(none) != 0 {
			t.Errorf("page past the end = %#v, want an empty list", none)
		}
		return err
	})
}

// testTimes checks that times are stored exactly to the microsecond and
// come back in UTC, whatever zone they went in with.
func testTimes(t *testing.T, f *fixture) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2031, 7, 8, 9, 10, 11, 123456789, zone)
	lt := smartlic.LicenseType{ID: newID(t), Tag: "t", Name: "T", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: created}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertLicenseType(ctx, lt) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetLicenseType(ctx, lt.ID)
		want := created.UTC().Truncate(time.Microsecond)
		if got.CreatedAt != want || got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v (%v), want %v in UTC", got.CreatedAt, got.CreatedAt.Location(), want)
		}
		return err
	})

	// Before 1970 and far ahead, both still exact.
	_, va := f.account("example.com")
	for _, at := range []time.Time{time.Date(1960, 1, 1, 0, 0, 0, 1000, time.UTC), time.Date(2999, 12, 31, 23, 59, 59, 999999000, time.UTC)} {
		d := f.deposit(va.ID, lt, 1, &at)
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			list, err := tx.DepositsOf(ctx, []string{va.ID})
			for _, got := range list {
				if got.ID == d.ID && (got.EndsAt == nil || *got.EndsAt != at) {
					t.Errorf("EndsAt = %v, want %v", got.EndsAt, at)
				}
			}
			return err
		})
	}
}

func testWriteRollsBack(t *testing.T, f *fixture) {
	boom := errors.New("boom")
	var lt smartlic.LicenseType
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		lt = smartlic.LicenseType{ID: newID(t), Tag: "rolled-back", Name: "R", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now}
		if err := tx.InsertLicenseType(ctx, lt); err != nil {
			return err
		}
		sa := smartlic.SmartAccount{ID: newID(t), Name: "R", Domain: "rolled.example", Status: smartlic.SAActive, CreatedAt: f.now}
		if err := tx.InsertSmartAccount(ctx, sa); err != nil {
			return err
		}
		// Visible inside the transaction…
		if _, err := tx.GetLicenseType(ctx, "rolled-back"); err != nil {
			t.Errorf("own insert not visible inside the transaction: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want fn's error", err)
	}
	// …and gone after.
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetLicenseType(ctx, lt.ID); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("license type of a rolled-back write: err = %v, want not found", err)
		}
		if _, err := tx.GetSmartAccount(ctx, "rolled.example"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("Smart Account of a rolled-back write: err = %v, want not found", err)
		}
		return nil
	})
	// A failed statement inside fn rolls back the statements before it.
	f.licenseType("taken")
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.InsertLicenseType(ctx, smartlic.LicenseType{ID: newID(t), Tag: "fresh", Name: "F", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now}); err != nil {
			return err
		}
		return tx.InsertLicenseType(ctx, smartlic.LicenseType{ID: newID(t), Tag: "taken", Name: "T", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now})
	})
	wantCode(t, err, smartlic.EConflict, "tag")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetLicenseType(ctx, "fresh"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("insert before a failed one survived: err = %v", err)
		}
		return nil
	})
	// And the store still writes afterwards.
	f.licenseType("after")
}

func testWriteRollsBackOnPanic(t *testing.T, f *fixture) {
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the panic from fn", p)
			}
		}()
		_ = f.st.Write(f.ctx(), func(tx smartlic.Tx) error {
			lt := smartlic.LicenseType{ID: newID(t), Tag: "panicked", Name: "P", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now}
			if err := tx.InsertLicenseType(f.ctx(), lt); err != nil {
				t.Errorf("insert: %v", err)
			}
			panic("boom")
		})
	}()
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetLicenseType(ctx, "panicked"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("insert before a panic survived: err = %v", err)
		}
		return nil
	})
	// The connection went back to the pool usable.
	f.licenseType("after")
}

// testConcurrentWritesStayApart runs many writes at once, some of which
// fail or panic after inserting: however the store schedules them (SQLite
// commits concurrent writes together), each one keeps all of its changes
// or none, and a failing one takes nobody else's with it.
func testConcurrentWritesStayApart(t *testing.T, f *fixture) {
	const writers = 60
	boom := errors.New("boom")
	var wg sync.WaitGroup
	results := make([]error, writers)
	panics := make([]any, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			<-start
			results[i] = f.st.Write(f.ctx(), func(tx smartlic.Tx) error {
				for j := range 2 {
					lt := smartlic.LicenseType{ID: newID(t), Tag: fmt.Sprintf("w%02d-%d", i, j), Name: "W", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now}
					if err := tx.InsertLicenseType(f.ctx(), lt); err != nil {
						return err
					}
				}
				switch i % 3 {
				case 1:
					return boom
				case 2:
					if i%2 == 0 {
						panic(fmt.Sprintf("panic %d", i))
					}
					// A failed statement: the tag is this write's own.
					return tx.InsertLicenseType(f.ctx(), smartlic.LicenseType{ID: newID(t), Tag: fmt.Sprintf("w%02d-0", i), Name: "W", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now})
				}
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()

	for i := range writers {
		wantPanic := i%3 == 2 && i%2 == 0
		switch {
		case wantPanic:
			if panics[i] != fmt.Sprintf("panic %d", i) {
				t.Errorf("writer %d: recovered %v, want its own panic", i, panics[i])
			}
		case panics[i] != nil:
			t.Errorf("writer %d panicked: %v", i, panics[i])
		case i%3 == 0 && results[i] != nil:
			t.Errorf("writer %d: %v, want success", i, results[i])
		case i%3 == 1 && !errors.Is(results[i], boom):
			t.Errorf("writer %d: %v, want its own error", i, results[i])
		case i%3 == 2:
			wantCode(t, results[i], smartlic.EConflict, "tag")
		}
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		for i := range writers {
			for j := range 2 {
				tag := fmt.Sprintf("w%02d-%d", i, j)
				_, err := tx.GetLicenseType(ctx, tag)
				switch {
				case i%3 == 0 && err != nil:
					t.Errorf("%s of a successful write: %v", tag, err)
				case i%3 != 0 && smartlic.ErrorCode(err) != smartlic.ENotFound:
					t.Errorf("%s of a failed write: err = %v, want not found", tag, err)
				}
			}
		}
		return nil
	})
}

func testReadIsReadOnly(t *testing.T, f *fixture) {
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.InsertLicenseType(ctx, smartlic.LicenseType{ID: newID(t), Tag: "sneaky", Name: "S", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now})
	})
	if err == nil {
		t.Error("Read allowed an insert")
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		if _, err := tx.GetLicenseType(ctx, "sneaky"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("insert inside Read was stored: err = %v", err)
		}
		return nil
	})
}

// testReadDuringWrite reads while a write transaction is open: the read
// neither waits for the write nor sees what it has not committed.
func testReadDuringWrite(t *testing.T, f *fixture) {
	lt := smartlic.LicenseType{ID: newID(t), Tag: "pending", Name: "P", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: f.now}
	inserted, readDone := make(chan struct{}), make(chan struct{})
	written := make(chan error, 1)
	go func() {
		written <- f.st.Write(f.ctx(), func(tx smartlic.Tx) error {
			if err := tx.InsertLicenseType(f.ctx(), lt); err != nil {
				return err
			}
			close(inserted)
			<-readDone
			return nil
		})
	}()
	select {
	case <-inserted:
	case err := <-written:
		t.Fatalf("Write: %v", err)
	}

	// A read that waited for the writer would hang until the writer
	// finishes, which it does only after the read: the deadline turns that
	// deadlock into a failure.
	ctx, cancel := context.WithTimeout(f.ctx(), 30*time.Second)
	err := f.st.Read(ctx, func(tx smartlic.Tx) error {
		_, err := tx.GetLicenseType(ctx, lt.ID)
		return err
	})
	cancel()
	close(readDone)
	if werr := <-written; werr != nil {
		t.Fatalf("Write: %v", werr)
	}
	wantCode(t, err, smartlic.ENotFound, "")

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetLicenseType(ctx, lt.ID)
		return err
	})
}

// testLockSmartAccount checks that a Write holding a Smart Account's lock
// keeps another Write from taking it until the first one ends.
func testLockSmartAccount(t *testing.T, f *fixture) {
	sa := f.smartAccount("example.com")
	locked, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- f.st.Write(f.ctx(), func(tx smartlic.Tx) error {
			if err := tx.LockSmartAccount(f.ctx(), sa.ID); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-first:
		t.Fatalf("first Write: %v", err)
	}

	// While the first holds the lock, a second cannot get it: it gives up
	// when its deadline passes.
	ctx, cancel := context.WithTimeout(f.ctx(), 200*time.Millisecond)
	err := f.st.Write(ctx, func(tx smartlic.Tx) error { return tx.LockSmartAccount(ctx, sa.ID) })
	cancel()
	close(release)
	if ferr := <-first; ferr != nil {
		t.Fatalf("first Write: %v", ferr)
	}
	if err == nil {
		t.Error("two Writes held the same Smart Account's lock at once")
	}
	// Released, it can be taken again.
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.LockSmartAccount(ctx, sa.ID) })
}

// testConcurrentConsumeToken races 200 registrations for a token with 10
// uses: exactly 10 may win.
func testConcurrentConsumeToken(t *testing.T, f *fixture) {
	const racers, uses = 200, 10
	_, va := f.account("example.com")
	tok := f.token(va.ID, ptr(int64(uses)), f.now.Add(time.Hour))

	var won atomic.Int64
	f.writeAtOnce(racers, func(_ int, tx smartlic.Tx) error {
		_, ok, err := tx.ConsumeToken(f.ctx(), tok.Hash, f.now)
		if ok {
			won.Add(1)
		}
		return err
	})
	if got := won.Load(); got != uses {
		t.Errorf("%d registrations used a token with %d uses", got, uses)
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetToken(ctx, tok.ID)
		if got.Uses != uses {
			t.Errorf("uses = %d, want %d", got.Uses, uses)
		}
		return err
	})
}

// testConcurrentAddInUse moves one pool counter from 50 transactions at
// once; no change may be lost.
func testConcurrentAddInUse(t *testing.T, f *fixture) {
	const writers = 50
	_, va := f.account("example.com")
	lt := f.licenseType("lt")
	want := int64(0)
	for i := range writers {
		want += int64(i + 1)
	}
	f.writeAtOnce(writers, func(i int, tx smartlic.Tx) error {
		return tx.AddInUse(f.ctx(), va.ID, lt.ID, int64(i+1), f.now)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.PoolCountersOf(ctx, []string{va.ID})
		wantEqual(t, "counter", got, []smartlic.PoolCounter{{VirtualAccountID: va.ID, LicenseTypeID: lt.ID, InUse: want}})
		return err
	})
}

// writeAtOnce starts n Writes at the same moment, the i-th doing fn(i,
// tx), and fails the test for every Write that returns an error.
func (f *fixture) writeAtOnce(n int, fn func(i int, tx smartlic.Tx) error) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if err := f.st.Write(f.ctx(), func(tx smartlic.Tx) error { return fn(i, tx) }); err != nil {
				f.t.Errorf("Write %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
}

func ltID(lt smartlic.LicenseType) string    { return lt.ID }
func vaID(va smartlic.VirtualAccount) string { return va.ID }
func tokID(t smartlic.Token) string          { return t.ID }
func instID(i smartlic.Instance) string      { return i.ID }

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func sortedBy[T any](items []T, id func(T) string) []T {
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return items
}

func sortCounters(cs []smartlic.PoolCounter) {
	slices.SortFunc(cs, func(a, b smartlic.PoolCounter) int {
		if c := strings.Compare(a.VirtualAccountID, b.VirtualAccountID); c != 0 {
			return c
		}
		return strings.Compare(a.LicenseTypeID, b.LicenseTypeID)
	})
}

// manyVAs is a Virtual Account filter longer than one IN list of the
// store (1,200 ids) holding the given VAs far apart, in different chunks,
// among ids of no VA.
func manyVAs(t *testing.T, vaIDs ...string) []string {
	out := make([]string, 1200)
	for i := range out {
		out[i] = newID(t)
	}
	for k, id := range vaIDs {
		out[3+k*(len(out)-10)/max(1, len(vaIDs)-1)] = id
	}
	return out
}
