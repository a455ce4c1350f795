package store

import (
	"context"
	"database/sql"
	"slices"

	"github.com/smartlic/smartlic"
)

// Classic SKUs, PAKs and conversions. Off the hot paths, so the statements
// are built here with '?' placeholders rather than added to the fixed set.

const classicSKUCols = `s.id, s.sku, s.description, COALESCE(s.license_type_id, ''), COALESCE(lt.tag, ''), s.ratio, s.term_days, s.created_at`
const classicSKUFrom = `classic_skus s LEFT JOIN license_types lt ON lt.id = s.license_type_id`

func (t *tx) InsertClassicSKU(ctx context.Context, s smartlic.ClassicSKU) error {
	_, err := t.execBuilt(ctx, `INSERT INTO classic_skus (id, sku, description, license_type_id, ratio, term_days, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.SKU, s.Description, nullString(s.LicenseTypeID), s.Ratio, s.TermDays, micros(s.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a classic SKU", noun: "classic SKU", field: "sku", value: s.SKU, id: s.ID, refs: "a license type"})
	}
	return nil
}

func (t *tx) GetClassicSKU(ctx context.Context, idOrSKU string) (smartlic.ClassicSKU, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+classicSKUCols+` FROM `+classicSKUFrom+` WHERE s.id = ? OR s.sku = ?`, idOrSKU, idOrSKU),
		scanClassicSKU, "reading a classic SKU",
		func() error { return smartlic.NotFound("classic SKU %q not found", idOrSKU) })
}

func (t *tx) ListClassicSKUs(ctx context.Context, p smartlic.Page) ([]smartlic.ClassicSKU, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+classicSKUCols+` FROM `+classicSKUFrom+` WHERE s.id > ? ORDER BY s.id LIMIT ?`, p.After, limit(p))
	return collect(rows, err, scanClassicSKU, "listing classic SKUs")
}

// DeleteClassicSKU removes a SKU from the catalogue. PAK lines name SKUs by
// text, so their PAKs stay; their lines are simply no longer convertible.
func (t *tx) DeleteClassicSKU(ctx context.Context, id string) error {
	res, err := t.execBuilt(ctx, `DELETE FROM classic_skus WHERE id = ?`, id)
	if err != nil {
		return smartlic.Internal(err, "deleting a classic SKU")
	}
	if n, err := res.RowsAffected(); err != nil {
		return smartlic.Internal(err, "deleting a classic SKU")
	} else if n == 0 {
		return smartlic.NotFound("classic SKU %q not found", id)
	}
	return nil
}

func scanClassicSKU(r scanner) (smartlic.ClassicSKU, error) {
	var s smartlic.ClassicSKU
	var created int64
	err := r.Scan(&s.ID, &s.SKU, &s.Description, &s.LicenseTypeID, &s.LicenseTag, &s.Ratio, &s.TermDays, &created)
	s.CreatedAt = fromMicros(created)
	return s, err
}

// PAKs.

func (t *tx) InsertPAK(ctx context.Context, p smartlic.PAK) error {
	_, err := t.execBuilt(ctx, `INSERT INTO paks (id, smart_account_id, number, order_number, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.ID, p.SmartAccountID, p.Number, p.OrderNumber, micros(p.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a PAK", noun: "PAK", field: "number", value: p.Number, id: p.ID, refs: "a Smart Account"})
	}
	for _, l := range p.Lines {
		_, err := t.execBuilt(ctx, `INSERT INTO pak_lines (id, pak_id, line, sku, quantity, converted) VALUES (?, ?, ?, ?, ?, ?)`,
			l.ID, p.ID, l.Line, l.SKU, l.Quantity, l.Converted)
		if err != nil {
			return t.writeErr(err, about{what: "storing a PAK line", noun: "PAK line", field: "lines", id: l.ID, refs: "a PAK"})
		}
		for _, f := range l.Fulfillments {
			_, err := t.execBuilt(ctx, `INSERT INTO pak_fulfillments (id, line_id, pid, sn, count, converted) VALUES (?, ?, ?, ?, ?, ?)`,
				f.ID, l.ID, f.UDI.PID, f.UDI.SN, f.Count, f.Converted)
			if err != nil {
				return t.writeErr(err, about{what: "storing a PAK fulfillment", noun: "fulfillment of this device", field: "lines.fulfilled.udi", id: f.ID, refs: "a PAK line"})
			}
		}
	}
	return nil
}

const pakCols = `id, smart_account_id, number, order_number, created_at`

func (t *tx) GetPAK(ctx context.Context, saID, idOrNumber string) (smartlic.PAK, error) {
	p, err := one(t.queryRowBuilt(ctx, `SELECT `+pakCols+` FROM paks WHERE smart_account_id = ? AND (id = ? OR number = ?)`, saID, idOrNumber, idOrNumber),
		scanPAK, "reading a PAK",
		func() error { return smartlic.NotFound("PAK %q not found in this Smart Account", idOrNumber) })
	if err != nil {
		return p, err
	}
	if err := t.fillLines(ctx, []*smartlic.PAK{&p}, true); err != nil {
		return p, err
	}
	return p, nil
}

func (t *tx) ListPAKs(ctx context.Context, saID string, p smartlic.Page) ([]smartlic.PAK, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+pakCols+` FROM paks WHERE smart_account_id = ? AND id > ? ORDER BY id LIMIT ?`, saID, p.After, limit(p))
	paks, err := collect(rows, err, scanPAK, "listing PAKs")
	if err != nil {
		return nil, err
	}
	ptrs := make([]*smartlic.PAK, len(paks))
	for i := range paks {
		ptrs[i] = &paks[i]
	}
	return paks, t.fillLines(ctx, ptrs, false)
}

// fillLines reads the lines (and, with withFulfillments, their
// fulfillments) of the given PAKs in one query each per chunk.
func (t *tx) fillLines(ctx context.Context, paks []*smartlic.PAK, withFulfillments bool) error {
	byID := map[string]*smartlic.PAK{}
	ids := make([]string, 0, len(paks))
	for _, p := range paks {
		p.Lines = []smartlic.PAKLine{}
		byID[p.ID] = p
		ids = append(ids, p.ID)
	}
	for chunk := range slices.Chunk(ids, maxInList) {
		rows, err := t.queryBuilt(ctx, `SELECT id, pak_id, line, sku, quantity, converted FROM pak_lines
			WHERE pak_id IN (`+inList(len(chunk))+`) ORDER BY pak_id, line`, anys(chunk)...)
		lines, err := collect(rows, err, scanPAKLine, "reading PAK lines")
		if err != nil {
			return err
		}
		for _, l := range lines {
			p := byID[l.PAKID]
			p.Lines = append(p.Lines, l)
		}
	}
	if !withFulfillments {
		return nil
	}
	for _, p := range paks {
		if len(p.Lines) == 0 {
			continue
		}
		rows, err := t.queryBuilt(ctx, `SELECT f.id, f.line_id, f.pid, f.sn, f.count, f.converted
			FROM pak_fulfillments f JOIN pak_lines l ON l.id = f.line_id
			WHERE l.pak_id = ? ORDER BY l.line, f.pid, f.sn`, p.ID)
		fs, err := collect(rows, err, scanFulfillment, "reading PAK fulfillments")
		if err != nil {
			return err
		}
		for _, f := range fs {
			for i := range p.Lines {
				if p.Lines[i].ID == f.LineID {
					p.Lines[i].Fulfillments = append(p.Lines[i].Fulfillments, f)
				}
			}
		}
	}
	return nil
}

func scanPAK(r scanner) (smartlic.PAK, error) {
	var p smartlic.PAK
	var created int64
	err := r.Scan(&p.ID, &p.SmartAccountID, &p.Number, &p.OrderNumber, &created)
	p.CreatedAt = fromMicros(created)
	return p, err
}

func scanPAKLine(r scanner) (smartlic.PAKLine, error) {
	var l smartlic.PAKLine
	err := r.Scan(&l.ID, &l.PAKID, &l.Line, &l.SKU, &l.Quantity, &l.Converted)
	return l, err
}

func scanFulfillment(r scanner) (smartlic.PAKFulfillment, error) {
	var f smartlic.PAKFulfillment
	err := r.Scan(&f.ID, &f.LineID, &f.UDI.PID, &f.UDI.SN, &f.Count, &f.Converted)
	return f, err
}

// ClaimPAKUnits is the at-most-once guarantee of conversion: the check and
// the increment are one statement, so on PostgreSQL concurrent claims on
// one line queue on its row lock and each re-checks the condition against
// the latest converted count (READ COMMITTED), and on SQLite writers are
// serial. Two requests can never both take the last unit.
func (t *tx) ClaimPAKUnits(ctx context.Context, lineID string, n int64) (bool, error) {
	return t.claim(ctx, `UPDATE pak_lines SET converted = converted + ? WHERE id = ? AND converted + ? <= quantity`, lineID, n, "claiming PAK units")
}

func (t *tx) ClaimFulfilledUnits(ctx context.Context, fulfillmentID string, n int64) (bool, error) {
	return t.claim(ctx, `UPDATE pak_fulfillments SET converted = converted + ? WHERE id = ? AND converted + ? <= count`, fulfillmentID, n, "claiming fulfilled PAK units")
}

func (t *tx) claim(ctx context.Context, q, id string, n int64, what string) (bool, error) {
	if n <= 0 {
		return false, smartlic.Invalid("quantity", "must be at least 1 (got %d)", n)
	}
	res, err := t.execBuilt(ctx, q, n, id, n)
	if err != nil {
		return false, smartlic.Internal(err, what)
	}
	got, err := res.RowsAffected()
	if err != nil {
		return false, smartlic.Internal(err, what)
	}
	return got == 1, nil
}

func (t *tx) FulfillmentsOn(ctx context.Context, saID string, udi smartlic.UDI, sku, pak string) ([]smartlic.DeviceFulfillment, error) {
	q := `SELECT f.id, f.line_id, f.pid, f.sn, f.count, f.converted,
			l.id, l.pak_id, l.line, l.sku, l.quantity, l.converted,
			p.id, p.number, p.order_number
		FROM pak_fulfillments f
		JOIN pak_lines l ON l.id = f.line_id
		JOIN paks p ON p.id = l.pak_id
		WHERE f.pid = ? AND f.sn = ? AND l.sku = ? AND p.smart_account_id = ?`
	args := []any{udi.PID, udi.SN, sku, saID}
	if pak != "" {
		q += ` AND p.number = ?`
		args = append(args, pak)
	}
	q += ` ORDER BY p.id, l.line LIMIT ?`
	args = append(args, smartlic.MaxPageLimit)
	rows, err := t.queryBuilt(ctx, q, args...)
	return collect(rows, err, func(r scanner) (smartlic.DeviceFulfillment, error) {
		var d smartlic.DeviceFulfillment
		f, l := &d.Fulfillment, &d.Line
		err := r.Scan(&f.ID, &f.LineID, &f.UDI.PID, &f.UDI.SN, &f.Count, &f.Converted,
			&l.ID, &l.PAKID, &l.Line, &l.SKU, &l.Quantity, &l.Converted,
			&d.PAKID, &d.PAKNumber, &d.OrderNumber)
		return d, err
	}, "finding a device's PAK fulfillments")
}

// Conversions.

const conversionCols = `c.id, c.smart_account_id, c.pak_id, p.number, c.line_id, l.line, l.sku, c.units, c.va_id, c.deposit_id,
	c.license_type_id, c.license_tag, c.quantity, c.instance_id, c.pid, c.sn, c.created_at`

func (t *tx) InsertConversion(ctx context.Context, c smartlic.Conversion) error {
	var pid, sn any
	if c.UDI != nil {
		pid, sn = c.UDI.PID, c.UDI.SN
	}
	_, err := t.execBuilt(ctx, `INSERT INTO conversions (id, smart_account_id, pak_id, line_id, units, va_id, deposit_id,
		license_type_id, license_tag, quantity, instance_id, pid, sn, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.SmartAccountID, c.PAKID, c.LineID, c.Units, c.VirtualAccountID, c.DepositID,
		c.LicenseTypeID, c.LicenseTag, c.Quantity, nullString(c.InstanceID), pid, sn, micros(c.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "recording a conversion", noun: "conversion", id: c.ID, refs: "a PAK line"})
	}
	return nil
}

func (t *tx) ListConversions(ctx context.Context, pakID string) ([]smartlic.Conversion, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+conversionCols+` FROM conversions c
		JOIN paks p ON p.id = c.pak_id JOIN pak_lines l ON l.id = c.line_id
		WHERE c.pak_id = ? ORDER BY c.id LIMIT ?`, pakID, smartlic.MaxPageLimit)
	return collect(rows, err, scanConversion, "listing conversions")
}

func scanConversion(r scanner) (smartlic.Conversion, error) {
	var c smartlic.Conversion
	var inst, pid, sn sql.NullString
	var created int64
	err := r.Scan(&c.ID, &c.SmartAccountID, &c.PAKID, &c.PAKNumber, &c.LineID, &c.Line, &c.SKU, &c.Units, &c.VirtualAccountID, &c.DepositID,
		&c.LicenseTypeID, &c.LicenseTag, &c.Quantity, &inst, &pid, &sn, &created)
	c.InstanceID, c.CreatedAt = inst.String, fromMicros(created)
	if pid.Valid {
		c.UDI = &smartlic.UDI{PID: pid.String, SN: sn.String}
	}
	return c, err
}
