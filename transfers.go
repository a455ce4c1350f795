package smartlic

import (
	"context"
	"time"
)

// Transfer kinds.
const (
	TransferLicenses  = "licenses"
	TransferInstances = "instances"
)

// MaxTransferInstances bounds one instance transfer.
const MaxTransferInstances = 1000

// Transfer moves licenses or product instances from one Virtual Account to
// another of the same Smart Account. A license transfer moves licenses
// that are available in the source pool (purchased and active, minus in
// use) and is recorded as pairs of deposit movements: a negative one in the
// source and a positive one in the destination, per lot moved, each with the
// lot's end date, so subscription terms travel with the licenses. Deposits
// themselves are never changed.
type Transfer struct {
	ID             string            `json:"id"`
	SmartAccountID string            `json:"smart_account_id"`
	Kind           string            `json:"kind" enum:"licenses,instances"`
	FromID         string            `json:"from_virtual_account_id"`
	FromName       string            `json:"from_virtual_account"`
	ToID           string            `json:"to_virtual_account_id"`
	ToName         string            `json:"to_virtual_account"`
	LicenseTypeID  string            `json:"license_type_id,omitempty"`
	LicenseTag     string            `json:"license_tag,omitempty"`
	Quantity       int64             `json:"quantity"` // licenses, or instances moved
	Lots           []TransferLot     `json:"lots,omitempty"`
	Instances      []TransferredInst `json:"instances,omitempty"`
	ActorEmail     string            `json:"actor_email,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
}

// TransferLot is the part of a license transfer taken from one source lot
// (a deposit, or licenses an earlier transfer brought in).
type TransferLot struct {
	FromDeposit string     `json:"from_deposit"`
	Quantity    int64      `json:"quantity"`
	EndsAt      *time.Time `json:"ends_at,omitempty"`
}

// TransferredInst is one instance an instance transfer moved.
type TransferredInst struct {
	ID  string `json:"id"`
	UDI string `json:"udi"`
}

// TransferInput asks for a transfer. Instances set means an instance
// transfer; otherwise License and Quantity say what licenses move.
type TransferInput struct {
	From      string   `json:"from"` // Virtual Account id or name
	To        string   `json:"to"`
	License   string   `json:"license,omitempty"`   // license type tag or id
	Quantity  int64    `json:"quantity,omitempty"`  // licenses to move
	Deposit   string   `json:"deposit,omitempty"`   // take only from this lot (deposit id)
	Instances []string `json:"instances,omitempty"` // instance ids or UDIs (PID:SN)
}

// LicenseLot is an active deposit of a pool with what is left of it after
// earlier transfers.
type LicenseLot struct {
	DepositID string
	Remaining int64
	StartsAt  time.Time
	EndsAt    *time.Time
}

// OrderLotsForTransfer sorts lots in the order a license transfer draws
// from them: the one that ends first goes first, perpetual lots last, ties
// by deposit id. The source so keeps its longest terms, and licenses about
// to lapse are the ones handed on, as they would lapse first anyway; a
// caller who wants a particular lot names it (TransferInput.Deposit).
func OrderLotsForTransfer(lots []LicenseLot) {
	less := func(a, b LicenseLot) bool {
		switch {
		case a.EndsAt == nil && b.EndsAt == nil:
			return a.DepositID < b.DepositID
		case a.EndsAt == nil:
			return false
		case b.EndsAt == nil:
			return true
		case !a.EndsAt.Equal(*b.EndsAt):
			return a.EndsAt.Before(*b.EndsAt)
		}
		return a.DepositID < b.DepositID
	}
	// Insertion sort: a pool has a handful of lots.
	for i := 1; i < len(lots); i++ {
		for j := i; j > 0 && less(lots[j], lots[j-1]); j-- {
			lots[j], lots[j-1] = lots[j-1], lots[j]
		}
	}
}

// TransferService moves licenses and instances between Virtual Accounts.
type TransferService interface {
	// Transfer moves licenses or instances; it refuses with EInsufficient
	// when the source pool has fewer available than asked, and changes
	// nothing then.
	Transfer(ctx context.Context, sa string, in TransferInput) (Transfer, error)
	// ListTransfers lists a Smart Account's transfers, oldest first.
	ListTransfers(ctx context.Context, sa string, p Page) ([]Transfer, string, error)
}

// TransferTx is the storage transfers need.
type TransferTx interface {
	// LockPool creates the pool counter of vaID × licenseTypeID if needed,
	// locks it until the transaction ends (SELECT … FOR UPDATE on
	// PostgreSQL; SQLite writers are serial) and returns its in-use count.
	// Callers lock several pools in (va, license type) order.
	LockPool(ctx context.Context, vaID, licenseTypeID string) (int64, error)
	// LockPools is LockPool of many pools, in (va, license type) order
	// whatever the order given, in a few statements whatever their
	// number; it returns their counters in that order.
	LockPools(ctx context.Context, pools []PoolKey) ([]PoolCounter, error)
	// LockPoolStates is LockPools that also returns the pools' deposits,
	// ordered by id, as PoolStateOf does: on PostgreSQL in the same round
	// trip as the locks.
	LockPoolStates(ctx context.Context, pools []PoolKey) ([]Deposit, []PoolCounter, error)
	// LicenseLots returns the deposits of a pool active at now with what
	// remains of each after transfers, leaving out empty ones.
	LicenseLots(ctx context.Context, vaID, licenseTypeID string, now time.Time) ([]LicenseLot, error)
	// InsertTransfer records a transfer (its lots and instances included).
	InsertTransfer(ctx context.Context, t Transfer) error
	// InsertTransferDeposit stores one movement of a license transfer: a
	// deposit row of transferID, drawn from the lot fromLot (negative
	// quantity in the source) or bringing it in (positive, in the
	// destination).
	InsertTransferDeposit(ctx context.Context, d Deposit, transferID, fromLot string) error
	ListTransfers(ctx context.Context, saID string, p Page) ([]Transfer, error)
	// LockInstance locks an instance's row until the transaction ends
	// (SELECT … FOR UPDATE on PostgreSQL), so that a transfer and a
	// usage change of the same instance take turns. ENotFound when it is
	// gone.
	LockInstance(ctx context.Context, id string) error
}
