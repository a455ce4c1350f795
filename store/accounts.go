package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smartlic/smartlic"
)

// Smart Accounts.

func (t *tx) InsertSmartAccount(ctx context.Context, sa smartlic.SmartAccount) error {
	_, err := t.exec(ctx, stInsertSmartAccount, sa.ID, sa.Name, sa.Domain, sa.LimitedUse, string(sa.Status), micros(sa.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a Smart Account", noun: "Smart Account", field: "domain", value: sa.Domain, id: sa.ID})
	}
	return nil
}

func (t *tx) GetSmartAccount(ctx context.Context, idOrDomain string) (smartlic.SmartAccount, error) {
	return one(t.queryRow(ctx, stGetSmartAccount, idOrDomain, idOrDomain), scanSmartAccount, "reading a Smart Account", func() error {
		return smartlic.NotFound("Smart Account %q not found", idOrDomain)
	})
}

func (t *tx) ListSmartAccounts(ctx context.Context, status smartlic.SmartAccountStatus, p smartlic.Page) ([]smartlic.SmartAccount, error) {
	rows, err := t.query(ctx, stListSmartAccounts, p.After, string(status), string(status), limit(p))
	return collect(rows, err, scanSmartAccount, "listing Smart Accounts")
}

func (t *tx) UpdateSmartAccount(ctx context.Context, sa smartlic.SmartAccount) error {
	t.changes |= scopeChange
	ok, err := t.execOne(ctx, stUpdateSmartAccount, sa.Name, sa.Domain, sa.LimitedUse, string(sa.Status), sa.ID)
	if err != nil {
		return t.writeErr(err, about{what: "updating a Smart Account", noun: "Smart Account", field: "domain", value: sa.Domain, id: sa.ID})
	}
	if !ok {
		return smartlic.NotFound("Smart Account %q not found", sa.ID)
	}
	return nil
}

func (t *tx) LockSmartAccount(ctx context.Context, id string) error {
	var got string
	err := t.queryRow(ctx, stLockSmartAccount, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return smartlic.NotFound("Smart Account %q not found", id)
	}
	if err != nil {
		return smartlic.Internal(err, "locking a Smart Account")
	}
	return nil
}

func scanSmartAccount(r scanner) (smartlic.SmartAccount, error) {
	var sa smartlic.SmartAccount
	var created int64
	err := r.Scan(&sa.ID, &sa.Name, &sa.Domain, &sa.LimitedUse, &sa.Status, &created)
	sa.CreatedAt = fromMicros(created)
	return sa, err
}

// Virtual Accounts.

// vaNamesCompare is how the unique index on virtual_accounts compares
// names (see smartlic.VANameKey).
const vaNamesCompare = "names are compared ignoring upper and lower case"

func (t *tx) InsertVirtualAccount(ctx context.Context, va smartlic.VirtualAccount) error {
	_, err := t.exec(ctx, stInsertVirtualAccount, va.ID, va.SmartAccountID, nullString(va.ParentID), va.Name, va.Description, va.Depth, micros(va.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{
			what: "storing a Virtual Account", noun: "Virtual Account", field: "name", value: va.Name, id: va.ID, compare: vaNamesCompare,
			refs: "a Smart Account or parent Virtual Account",
		})
	}
	return nil
}

func (t *tx) GetVirtualAccount(ctx context.Context, saID, idOrName string) (smartlic.VirtualAccount, error) {
	return one(t.queryRow(ctx, stGetVirtualAccount, saID, idOrName, smartlic.VANameKey(idOrName), idOrName), scanVirtualAccount, "reading a Virtual Account", func() error {
		return smartlic.NotFound("Virtual Account %q not found", idOrName)
	})
}

func (t *tx) GetVirtualAccountByID(ctx context.Context, id string) (smartlic.VirtualAccount, error) {
	return one(t.queryRow(ctx, stGetVirtualAccountByID, id), scanVirtualAccount, "reading a Virtual Account", func() error {
		return smartlic.NotFound("Virtual Account %q not found", id)
	})
}

func (t *tx) ListVirtualAccounts(ctx context.Context, saID string, p smartlic.Page) ([]smartlic.VirtualAccount, error) {
	rows, err := t.query(ctx, stListVirtualAccounts, saID, p.After, limit(p))
	return collect(rows, err, scanVirtualAccount, "listing Virtual Accounts")
}

func (t *tx) AllVirtualAccounts(ctx context.Context, saID string) ([]smartlic.VirtualAccount, error) {
	rows, err := t.query(ctx, stAllVirtualAccounts, saID)
	return collect(rows, err, scanVirtualAccount, "listing Virtual Accounts")
}

func (t *tx) UpdateVirtualAccount(ctx context.Context, va smartlic.VirtualAccount) error {
	t.changes |= scopeChange | catalogChange
	ok, err := t.execOne(ctx, stUpdateVirtualAccount, nullString(va.ParentID), va.Name, va.Description, va.Depth, va.ID)
	if err != nil {
		return t.writeErr(err, about{
			what: "updating a Virtual Account", noun: "Virtual Account", field: "name", value: va.Name, id: va.ID, compare: vaNamesCompare,
			refs: "a parent Virtual Account",
		})
	}
	if !ok {
		return smartlic.NotFound("Virtual Account %q not found", va.ID)
	}
	return nil
}

// DeleteVirtualAccount deletes a VA with its tokens and pool counters (the
// schema cascades them). Children, deposits and instances make it fail.
func (t *tx) DeleteVirtualAccount(ctx context.Context, id string) error {
	t.changes |= scopeChange | catalogChange
	ok, err := t.execOne(ctx, stDeleteVirtualAccount, id)
	switch {
	case err != nil && t.inUse(err):
		return smartlic.Errorf(smartlic.ENotEmpty, "va", "Virtual Account %q still holds child Virtual Accounts, deposits or product instances", id)
	case err != nil:
		return smartlic.Internal(err, "deleting a Virtual Account")
	case !ok:
		return smartlic.NotFound("Virtual Account %q not found", id)
	}
	return nil
}

func (t *tx) VirtualAccountContents(ctx context.Context, id string, now time.Time) (smartlic.VAContents, error) {
	var c smartlic.VAContents
	var exists int64
	err := t.queryRow(ctx, stVirtualAccountContents, id, id, id, id, micros(now), id).
		Scan(&exists, &c.Children, &c.Deposits, &c.Tokens, &c.Instances)
	if err != nil {
		return c, smartlic.Internal(err, "counting a Virtual Account's contents")
	}
	if exists == 0 {
		return c, smartlic.NotFound("Virtual Account %q not found", id)
	}
	return c, nil
}

func scanVirtualAccount(r scanner) (smartlic.VirtualAccount, error) {
	var va smartlic.VirtualAccount
	var parent sql.NullString
	var created int64
	err := r.Scan(&va.ID, &va.SmartAccountID, &parent, &va.Name, &va.Description, &va.Depth, &created)
	va.ParentID, va.CreatedAt = parent.String, fromMicros(created)
	return va, err
}
