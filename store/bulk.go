package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/smartlic/smartlic"
)

// Bulk is a large fixture written straight into the tables, for the bench
// harness and tests of scale: a million registered instances would take
// half an hour through the manager, and the point is to measure what
// reads them, not to register them again.
//
// What BulkLoad writes is what the manager would have written: the rows,
// an event for every creation on the right hash chain (so the log
// verifies), the pool counters recounted from the usage lines and one pool
// history entry per pool. It does not check the domain's rules; the caller
// builds valid rows.
type Bulk struct {
	LicenseTypes    []smartlic.LicenseType
	Products        []smartlic.Product
	SmartAccount    smartlic.SmartAccount
	VirtualAccounts []smartlic.VirtualAccount // parents before children
	Deposits        []smartlic.Deposit
	// Instance returns instance i of Instances, with its usage lines
	// (LicenseTypeID, LicenseTag, Count, Status). It is called once per
	// instance, in order, so nothing needs to hold them all.
	Instances int
	Instance  func(i int) smartlic.Instance
	// At dates the events and the pool history.
	At time.Time
}

// bulkActor is who the events of a bulk load name.
var bulkActor = smartlic.Actor{Email: "bulk-load@smartlic.invalid", Role: smartlic.RoleOperator}

// BulkLoad writes b. The catalogue, account, VAs and deposits go in one
// transaction through the ordinary statements; the instances, their usage
// lines and their events go in batches (multi-row INSERTs in transactions
// of bulkTxRows rows on SQLite, COPY on PostgreSQL). A load that fails
// halfway leaves a partial fixture: BulkLoad is for a fresh database.
func (db *DB) BulkLoad(ctx context.Context, b Bulk) error {
	chain := b.SmartAccount.ID
	var head smartlic.ChainHead
	err := db.Write(ctx, func(t smartlic.Tx) error {
		record := func(e smartlic.Event) error {
			c := smartlic.VendorChain
			if e.SmartAccountID != "" {
				c = e.SmartAccountID
			}
			h, err := t.LockEventChain(ctx, c)
			if err != nil {
				return err
			}
			e.ID, e.At, e.ActorEmail, e.ActorRole = uuid.Must(uuid.NewV7()).String(), b.At, bulkActor.Email, bulkActor.Role
			e.Seal(h)
			return t.AppendEvent(ctx, e)
		}
		for _, lt := range b.LicenseTypes {
			if err := t.InsertLicenseType(ctx, lt); err != nil {
				return err
			}
			if err := record(smartlic.Event{Type: "license_type.created", Subject: lt.ID, Message: "license type " + lt.Tag + " created (bulk load)"}); err != nil {
				return err
			}
		}
		for _, p := range b.Products {
			if err := t.InsertProduct(ctx, p); err != nil {
				return err
			}
			if err := record(smartlic.Event{Type: "product.created", Subject: p.ID, Message: "product " + p.PID + " created (bulk load)"}); err != nil {
				return err
			}
		}
		if err := t.InsertSmartAccount(ctx, b.SmartAccount); err != nil {
			return err
		}
		if err := record(smartlic.Event{Type: "account.created", SmartAccountID: chain, Subject: chain, Message: "Smart Account " + b.SmartAccount.Domain + " created (bulk load)"}); err != nil {
			return err
		}
		for _, va := range b.VirtualAccounts {
			if err := t.InsertVirtualAccount(ctx, va); err != nil {
				return err
			}
			if err := record(smartlic.Event{Type: "va.created", SmartAccountID: chain, VirtualAccountID: va.ID, Subject: va.ID, Message: "Virtual Account " + va.Name + " created (bulk load)"}); err != nil {
				return err
			}
		}
		for _, d := range b.Deposits {
			if err := t.InsertDeposit(ctx, d); err != nil {
				return err
			}
			if err := record(smartlic.Event{Type: "deposit.created", SmartAccountID: chain, VirtualAccountID: d.VirtualAccountID, Subject: d.ID,
				Message: fmt.Sprintf("%d × %s deposited (bulk load)", d.Quantity, d.LicenseTag)}); err != nil {
				return err
			}
		}
		var err error
		head, err = t.LockEventChain(ctx, chain)
		return err
	})
	if err != nil {
		return err
	}

	// The instances, their usage lines and their events, generated and
	// written bulkTxRows instances at a time, so that a million of them
	// never sit in memory at once.
	instanceCols := []string{"id", "smart_account_id", "va_id", "pid", "sn", "hostname", "product_id", "mode",
		"allow_export_controlled", "public_key", "registered_at", "last_contact_at", "authorized_at", "auth_expires_at", "id_cert_expires_at"}
	usageCols := []string{"instance_id", "license_type_id", "tag", "count", "status"}
	eventColumns := strings.FieldsFunc(eventCols, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	for from := 0; from < b.Instances; from += bulkTxRows {
		n := min(bulkTxRows, b.Instances-from)
		instances, events := make([][]any, 0, n), make([][]any, 0, n)
		var usage [][]any
		for i := from; i < from+n; i++ {
			in := b.Instance(i)
			instances = append(instances, []any{in.ID, in.SmartAccountID, in.VirtualAccountID, in.UDI.PID, in.UDI.SN, in.Hostname,
				in.ProductID, string(in.Mode), in.AllowExportControlled, in.PublicKey, micros(in.RegisteredAt), micros(in.LastContactAt),
				nullMicros(in.AuthorizedAt), nullMicros(in.AuthExpiresAt), micros(in.IDCertExpiresAt)})
			for _, u := range in.Usage {
				usage = append(usage, []any{in.ID, u.LicenseTypeID, u.LicenseTag, u.Count, string(u.Status)})
			}
			e := smartlic.Event{ID: uuid.Must(uuid.NewV7()).String(), At: b.At, SmartAccountID: chain, VirtualAccountID: in.VirtualAccountID,
				Type: "instance.registered", Subject: in.ID, Message: in.UDI.String() + " registered (bulk load)",
				ActorEmail: bulkActor.Email, ActorRole: bulkActor.Role}
			e.Seal(head)
			head = smartlic.ChainHead{Chain: chain, Seq: e.Seq, Hash: e.Hash}
			events = append(events, []any{e.ID, e.Chain, e.Seq, micros(e.At), nullString(e.SmartAccountID), nullString(e.VirtualAccountID),
				e.Type, e.Subject, e.Message, e.ActorID, e.ActorEmail, e.ActorRole, e.RequestID, nil, nil, e.PrevHash, e.Hash})
		}
		if err := db.bulkInsert(ctx, "instances", instanceCols, instances); err != nil {
			return err
		}
		if err := db.bulkInsert(ctx, "instance_usage", usageCols, usage); err != nil {
			return err
		}
		if err := db.bulkInsert(ctx, "events", eventColumns, events); err != nil {
			return err
		}
	}

	// Counters once, from the usage lines, as AddInUse would have left
	// them; the chain's head where its last entry is.
	return db.Write(ctx, func(t smartlic.Tx) error {
		tx := t.(*tx)
		if _, err := tx.execBuilt(ctx, `INSERT INTO pools (va_id, license_type_id, in_use)
			SELECT i.va_id, u.license_type_id, SUM(u.count) FROM instance_usage u JOIN instances i ON i.id = u.instance_id
			WHERE i.smart_account_id = ? AND u.status <> ?
			GROUP BY i.va_id, u.license_type_id
			ON CONFLICT (va_id, license_type_id) DO UPDATE SET in_use = excluded.in_use`, chain, string(smartlic.NotAuthorized)); err != nil {
			return smartlic.Internal(err, "recounting pools")
		}
		if _, err := tx.execBuilt(ctx, `INSERT INTO pool_history (va_id, license_type_id, at, in_use)
			SELECT p.va_id, p.license_type_id, ?, p.in_use FROM pools p JOIN virtual_accounts v ON v.id = p.va_id
			WHERE v.smart_account_id = ?`, micros(b.At), chain); err != nil {
			return smartlic.Internal(err, "recording pool history")
		}
		if _, err := tx.execBuilt(ctx, `UPDATE event_chains SET seq = ?, hash = ? WHERE chain = ?`, head.Seq, head.Hash, chain); err != nil {
			return smartlic.Internal(err, "moving the event log head")
		}
		return nil
	})
}

// bulkTxRows is how many instances one round of a bulk load writes (one
// SQLite transaction or one COPY per table): large enough that commits
// cost little, small enough that the WAL stays a few tens of megabytes.
const bulkTxRows = 50_000

// bulkInsert appends rows to table: COPY on PostgreSQL, multi-row INSERTs
// on SQLite.
func (db *DB) bulkInsert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if db.d.numbered {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return smartlic.Internal(err, "bulk loading "+table)
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return errors.New("not a pgx connection")
			}
			_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
		if err != nil {
			return smartlic.Internal(err, "bulk loading "+table)
		}
		return nil
	}
	// SQLite binds at most 32,766 values a statement.
	per := min(500, 32_000/len(cols))
	one := "(" + inList(len(cols)) + ")"
	err := db.bulkTx(ctx, func(tx *sql.Tx) error {
		var stmt *sql.Stmt
		for part := rows; len(part) > 0; {
			k := min(per, len(part))
			if stmt == nil || k != per {
				q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", k), ", ")
				var err error
				if stmt, err = tx.PrepareContext(ctx, q); err != nil {
					return err
				}
				defer stmt.Close()
			}
			args := make([]any, 0, k*len(cols))
			for _, r := range part[:k] {
				args = append(args, r...)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
			part = part[k:]
		}
		return nil
	})
	if err != nil {
		return smartlic.Internal(err, "bulk loading "+table)
	}
	return nil
}

// bulkTx runs fn in a transaction of the writer connection.
func (db *DB) bulkTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, db.d.writeTx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
