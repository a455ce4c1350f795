package manager

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

var _ smartlic.ConversionService = (*Manager)(nil)

// Classic SKUs: the vendor's mapping from classic licenses to smart ones.

// CreateClassicSKU adds a classic SKU to the catalogue, with the smart
// license type it converts to (or none: not convertible).
func (m *Manager) CreateClassicSKU(ctx context.Context, in smartlic.ClassicSKUInput) (s smartlic.ClassicSKU, err error) {
	s = smartlic.ClassicSKU{SKU: in.SKU, Description: in.Description, Ratio: in.Ratio, TermDays: in.TermDays}
	if s.Ratio == 0 {
		s.Ratio = 1
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	s.ID, s.CreatedAt = newID(), m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		if in.License == "" {
			if s.TermDays != 0 {
				return smartlic.Invalid("term_days", "only a SKU that converts to a subscription license has a term")
			}
		} else {
			lt, err := getLicenseType(ctx, tx, in.License, "license")
			if err != nil {
				return err
			}
			switch {
			case lt.Term == smartlic.TermSubscription && s.TermDays == 0:
				return smartlic.Invalid("term_days", "is required: %q is a subscription license, so its converted licenses need a term in days", lt.Tag)
			case lt.Term == smartlic.TermPerpetual && s.TermDays != 0:
				return smartlic.Invalid("term_days", "must not be set: %q is a perpetual license", lt.Tag)
			}
			s.LicenseTypeID, s.LicenseTag = lt.ID, lt.Tag
		}
		if err := tx.InsertClassicSKU(ctx, s); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "classic_sku.created", Subject: s.ID,
			Message: fmt.Sprintf("classic SKU %s created (%s)", s.SKU, mappingText(s)), After: eventData(s)})
	})
	return s, err
}

func mappingText(s smartlic.ClassicSKU) string {
	if !s.Convertible() {
		return "no smart equivalent"
	}
	return fmt.Sprintf("1 unit = %d × %s", s.Ratio, s.LicenseTag)
}

// GetClassicSKU finds a classic SKU by id or SKU.
func (m *Manager) GetClassicSKU(ctx context.Context, key string) (s smartlic.ClassicSKU, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		s, err = getClassicSKU(ctx, tx, key, "sku")
		return err
	})
	return s, err
}

// ListClassicSKUs lists the classic SKUs.
func (m *Manager) ListClassicSKUs(ctx context.Context, p smartlic.Page) ([]smartlic.ClassicSKU, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.ClassicSKU
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		out, err = tx.ListClassicSKUs(ctx, p)
		return err
	})
	out, next := cutPage(p, out, func(s smartlic.ClassicSKU) string { return s.ID })
	return out, next, err
}

// DeleteClassicSKU removes a classic SKU. PAKs of it stay, as a record of
// what was bought; their unconverted units no longer convert.
func (m *Manager) DeleteClassicSKU(ctx context.Context, key string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		s, err := getClassicSKU(ctx, tx, key, "sku")
		if err != nil {
			return err
		}
		if err := tx.DeleteClassicSKU(ctx, s.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "classic_sku.deleted", Subject: s.ID,
			Message: fmt.Sprintf("classic SKU %s deleted", s.SKU), Before: eventData(s)})
	})
}

func getClassicSKU(ctx context.Context, tx smartlic.Tx, key, field string) (smartlic.ClassicSKU, error) {
	if strings.TrimSpace(key) == "" {
		return smartlic.ClassicSKU{}, smartlic.Invalid(field, "a classic SKU is required")
	}
	return tx.GetClassicSKU(ctx, key)
}

// PAKs.

// DepositPAK records a PAK in a Smart Account. Every SKU must be in the
// classic catalogue (convertible or not), so a typo is caught at deposit
// rather than discovered at conversion.
func (m *Manager) DepositPAK(ctx context.Context, saKey string, in smartlic.PAKInput) (p smartlic.PAK, err error) {
	if err := in.Validate(); err != nil {
		return p, err
	}
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermDeposit, saKey)
		if err != nil {
			return err
		}
		p = smartlic.PAK{ID: newID(), SmartAccountID: sa.ID, Number: in.Number, OrderNumber: in.OrderNumber, CreatedAt: now}
		for i, l := range in.Lines {
			if _, err := tx.GetClassicSKU(ctx, l.SKU); smartlic.ErrorCode(err) == smartlic.ENotFound {
				return smartlic.Invalid("lines.sku", "line %d: unknown classic SKU %q; the vendor adds it with \"smartlic sku create\"", i+1, l.SKU)
			} else if err != nil {
				return err
			}
			line := smartlic.PAKLine{ID: newID(), PAKID: p.ID, Line: i + 1, SKU: l.SKU, Quantity: l.Quantity}
			for _, f := range l.Fulfilled {
				line.Fulfillments = append(line.Fulfillments, smartlic.PAKFulfillment{ID: newID(), LineID: line.ID, UDI: f.UDI, Count: f.Count})
			}
			p.Lines = append(p.Lines, line)
		}
		if err := tx.InsertPAK(ctx, p); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "pak.deposited", SmartAccountID: sa.ID, Subject: p.ID,
			Message: fmt.Sprintf("PAK %s (order %s) deposited with %d lines", p.Number, p.OrderNumber, len(p.Lines)), After: eventData(p)})
	})
	return p, err
}

// GetPAK finds a PAK of the Smart Account by id or number.
func (m *Manager) GetPAK(ctx context.Context, saKey, pakKey string) (p smartlic.PAK, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermLicenseView, saKey)
		if err != nil {
			return err
		}
		p, err = getPAK(ctx, tx, sa, pakKey)
		return err
	})
	return p, err
}

// ListPAKs lists a Smart Account's PAKs with their lines.
func (m *Manager) ListPAKs(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.PAK, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.PAK
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermLicenseView, saKey)
		if err != nil {
			return err
		}
		out, err = tx.ListPAKs(ctx, sa.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(k smartlic.PAK) string { return k.ID })
	return out, next, err
}

// ListConversions lists what was converted of a PAK, oldest first.
func (m *Manager) ListConversions(ctx context.Context, saKey, pakKey string) (out []smartlic.Conversion, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermLicenseView, saKey)
		if err != nil {
			return err
		}
		p, err := getPAK(ctx, tx, sa, pakKey)
		if err != nil {
			return err
		}
		out, err = tx.ListConversions(ctx, p.ID)
		return err
	})
	return out, err
}

func getPAK(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, key string) (smartlic.PAK, error) {
	if strings.TrimSpace(key) == "" {
		return smartlic.PAK{}, smartlic.Invalid("pak", "a PAK id or number is required")
	}
	return tx.GetPAK(ctx, sa.ID, key)
}

// ConvertPAK converts all or part of a PAK into smart licenses in a VA.
// Each line's units are claimed with one conditional update, then
// deposited, in one transaction: a unit converts at most once however many
// requests race, and a refused request changes nothing.
func (m *Manager) ConvertPAK(ctx context.Context, saKey, pakKey string, in smartlic.ConvertInput) (res smartlic.ConversionResult, err error) {
	if len(in.Lines) > smartlic.MaxPAKLines {
		return res, smartlic.Invalid("lines", "at most %d lines (got %d)", smartlic.MaxPAKLines, len(in.Lines))
	}
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		va, err := getVAIn(ctx, tx, sa, in.VA, "va")
		if err != nil {
			return err
		}
		if err := m.authorize(ctx, tx, PermLicenseManage, &sa, &va); err != nil {
			return err
		}
		if sa.Status != smartlic.SAActive {
			return smartlic.Errorf(smartlic.EForbidden, "sa", "Smart Account %s is awaiting approval", sa.Domain)
		}
		pak, err := getPAK(ctx, tx, sa, pakKey)
		if err != nil {
			return err
		}
		plan, err := planConversion(ctx, tx, pak, in)
		if err != nil {
			return err
		}
		res.Conversions, res.Deposits = []smartlic.Conversion{}, []smartlic.Deposit{}
		// Every claim comes before the first deposit and event: the event
		// log's chain lock is then always taken after the line locks, in
		// every conversion, so two of them cannot wait on each other.
		for _, s := range plan {
			ok, err := tx.ClaimPAKUnits(ctx, s.line.ID, s.units)
			if err != nil {
				return err
			}
			if !ok {
				return alreadyConverted(ctx, tx, sa, pak, s.line, s.units)
			}
		}
		for _, s := range plan {
			c, d, err := m.convertUnits(ctx, tx, now, conversionOf{sa: sa, va: va, pakID: pak.ID, pakNumber: pak.Number,
				orderNumber: pak.OrderNumber, line: s.line, sku: s.sku, units: s.units, endsAt: in.EndsAt})
			if err != nil {
				return err
			}
			res.Conversions, res.Deposits = append(res.Conversions, c), append(res.Deposits, d)
		}
		res.PAK, err = tx.GetPAK(ctx, sa.ID, pak.ID)
		return err
	})
	return res, err
}

type planStep struct {
	line  smartlic.PAKLine
	sku   smartlic.ClassicSKU
	units int64
}

// planConversion picks the lines and units a conversion asks for, in line
// id order: every conversion, portal or device-led, claims line rows in id
// order, so concurrent ones cannot deadlock. (Ids are time-ordered and a
// PAK's lines are made in order, so this is also line number order.)
func planConversion(ctx context.Context, tx smartlic.Tx, pak smartlic.PAK, in smartlic.ConvertInput) ([]planStep, error) {
	mapping := func(l smartlic.PAKLine) (smartlic.ClassicSKU, error) {
		s, err := tx.GetClassicSKU(ctx, l.SKU)
		if smartlic.ErrorCode(err) == smartlic.ENotFound || (err == nil && !s.Convertible()) {
			return s, smartlic.Invalid("lines.sku", "line %d: classic SKU %q has no smart license equivalent to convert to", l.Line, l.SKU)
		}
		return s, err
	}
	var plan []planStep
	if len(in.Lines) == 0 {
		var unmappable []string
		convertible := false
		for _, l := range pak.Lines {
			s, err := mapping(l)
			if smartlic.ErrorCode(err) == smartlic.EInvalid {
				unmappable = append(unmappable, l.SKU)
				continue
			}
			if err != nil {
				return nil, err
			}
			convertible = true
			if l.Remaining() > 0 {
				plan = append(plan, planStep{line: l, sku: s, units: l.Remaining()})
			}
		}
		switch {
		case !convertible:
			return nil, smartlic.Invalid("lines.sku", "PAK %s: none of its SKUs (%s) has a smart license equivalent", pak.Number, strings.Join(unmappable, ", "))
		case len(plan) == 0:
			return nil, smartlic.Errorf(smartlic.EAlreadyConverted, "pak", "PAK %s is already converted: every unit with a smart license equivalent", pak.Number)
		}
		return plan, nil
	}
	seen := map[string]bool{}
	for _, want := range in.Lines {
		var line *smartlic.PAKLine
		for i := range pak.Lines {
			l := &pak.Lines[i]
			if (want.Line != 0 && l.Line == want.Line) || (want.Line == 0 && want.SKU != "" && l.SKU == want.SKU) {
				line = l
				break
			}
		}
		switch {
		case want.Line == 0 && want.SKU == "":
			return nil, smartlic.Invalid("lines.line", "each line to convert names a line number or a SKU")
		case line == nil && want.Line != 0:
			return nil, smartlic.Invalid("lines.line", "PAK %s has no line %d (it has %d)", pak.Number, want.Line, len(pak.Lines))
		case line == nil:
			return nil, smartlic.Invalid("lines.sku", "PAK %s has no line of SKU %q", pak.Number, want.SKU)
		case want.SKU != "" && want.SKU != line.SKU:
			return nil, smartlic.Invalid("lines.sku", "line %d of PAK %s is SKU %q, not %q", line.Line, pak.Number, line.SKU, want.SKU)
		case seen[line.ID]:
			return nil, smartlic.Invalid("lines", "line %d is listed twice", line.Line)
		case want.Quantity < 0:
			return nil, smartlic.Invalid("lines.quantity", "line %d: must be at least 1, or 0 for all that remains (got %d)", line.Line, want.Quantity)
		case want.Quantity > line.Quantity:
			return nil, smartlic.Invalid("lines.quantity", "line %d has only %d units (asked for %d)", line.Line, line.Quantity, want.Quantity)
		}
		seen[line.ID] = true
		s, err := mapping(*line)
		if err != nil {
			return nil, err
		}
		units := want.Quantity
		if units == 0 {
			units = line.Remaining()
		}
		if units == 0 || units > line.Remaining() {
			return nil, smartlic.Errorf(smartlic.EAlreadyConverted, "lines.quantity", "line %d (%s) of PAK %s: %d of %d units are already converted, %d remain (asked for %d)",
				line.Line, line.SKU, pak.Number, line.Converted, line.Quantity, line.Remaining(), want.Quantity)
		}
		plan = append(plan, planStep{line: *line, sku: s, units: units})
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].line.ID < plan[j].line.ID })
	return plan, nil
}

// alreadyConverted explains a claim that found too few units left: another
// conversion took them since the PAK was read.
func alreadyConverted(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, pak smartlic.PAK, line smartlic.PAKLine, asked int64) error {
	if fresh, err := tx.GetPAK(ctx, sa.ID, pak.ID); err == nil {
		for _, l := range fresh.Lines {
			if l.ID == line.ID {
				line = l
			}
		}
	}
	return smartlic.Errorf(smartlic.EAlreadyConverted, "lines.quantity", "line %d (%s) of PAK %s: %d of %d units are already converted, %d remain (asked for %d)",
		line.Line, line.SKU, pak.Number, line.Converted, line.Quantity, line.Remaining(), asked)
}

// conversionOf is classic units already claimed, to be deposited.
type conversionOf struct {
	sa                            smartlic.SmartAccount
	va                            smartlic.VirtualAccount
	pakID, pakNumber, orderNumber string
	line                          smartlic.PAKLine
	sku                           smartlic.ClassicSKU
	units                         int64
	endsAt                        *time.Time // overrides the SKU's term
	inst                          *smartlic.Instance
}

// convertUnits deposits the smart licenses of claimed classic units and
// records the conversion, in the caller's transaction. The deposit follows
// the rules of CreateDeposit: perpetual licenses have no end, subscriptions
// end TermDays after the conversion unless the caller chose an end.
func (m *Manager) convertUnits(ctx context.Context, tx smartlic.Tx, now time.Time, c conversionOf) (smartlic.Conversion, smartlic.Deposit, error) {
	lt, err := tx.GetLicenseType(ctx, c.sku.LicenseTypeID)
	if err != nil {
		return smartlic.Conversion{}, smartlic.Deposit{}, err
	}
	d := smartlic.Deposit{
		ID: newID(), VirtualAccountID: c.va.ID, OrderNumber: c.orderNumber,
		LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: c.units * c.sku.Ratio,
		StartsAt: now, CreatedAt: now,
	}
	switch {
	case lt.Term == smartlic.TermPerpetual && c.endsAt != nil:
		return smartlic.Conversion{}, d, smartlic.Invalid("ends_at", "must not be set: %q is a perpetual license", lt.Tag)
	case lt.Term == smartlic.TermSubscription && c.endsAt != nil:
		end := c.endsAt.UTC()
		d.EndsAt = &end
	case lt.Term == smartlic.TermSubscription && c.sku.TermDays > 0:
		end := now.Add(time.Duration(c.sku.TermDays) * smartlic.Day)
		d.EndsAt = &end
	case lt.Term == smartlic.TermSubscription:
		return smartlic.Conversion{}, d, smartlic.Invalid("ends_at", "is required: %q is a subscription license and SKU %s has no term", lt.Tag, c.sku.SKU)
	}
	if err := d.Validate(); err != nil {
		return smartlic.Conversion{}, d, err
	}
	if err := tx.InsertDeposit(ctx, d); err != nil {
		return smartlic.Conversion{}, d, err
	}
	conv := smartlic.Conversion{
		ID: newID(), SmartAccountID: c.sa.ID, PAKID: c.pakID, PAKNumber: c.pakNumber,
		LineID: c.line.ID, Line: c.line.Line, SKU: c.line.SKU, Units: c.units,
		VirtualAccountID: c.va.ID, DepositID: d.ID, LicenseTypeID: lt.ID, LicenseTag: lt.Tag,
		Quantity: d.Quantity, CreatedAt: now,
	}
	how := "in the portal"
	if c.inst != nil {
		udi := c.inst.UDI
		conv.InstanceID, conv.UDI = c.inst.ID, &udi
		how = "by device " + udi.String()
	}
	if err := tx.InsertConversion(ctx, conv); err != nil {
		return conv, d, err
	}
	err = m.record(ctx, tx, smartlic.Event{Type: "pak.converted", SmartAccountID: c.sa.ID, VirtualAccountID: c.va.ID, Subject: c.pakID,
		Message: fmt.Sprintf("%d units of %s (PAK %s line %d) converted %s into %d %s in Virtual Account %q",
			c.units, c.line.SKU, c.pakNumber, c.line.Line, how, d.Quantity, lt.Tag, c.va.Name),
		After: eventData(conv)})
	return conv, d, err
}

// ConvertClassic is device-led conversion. A registered instance reports
// the classic licenses it has installed; for each, the units of that SKU
// fulfilled on this very device (node-locked to its UDI) in PAKs of the
// instance's Smart Account convert into smart licenses in the instance's
// VA. Unassigned PAK units never convert this way: a device can only vouch
// for the licenses installed on it; those convert in the portal.
//
// The count a device reports is what it holds, not what to add, so the
// request is idempotent: reporting the same licenses again converts
// nothing more and answers already_converted.
func (m *Manager) ConvertClassic(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	return m.deviceCall(ctx, env, smartlic.TypeConvertRequest, smartlic.TypeConversion, func(tx smartlic.Tx, inst smartlic.Instance, _ smartlic.DeviceRequest, now time.Time) (any, error) {
		// deviceCall has verified the envelope against the instance's key
		// and checked who it is about: the payload can now be trusted.
		var req smartlic.ConvertRequest
		if err := smartlic.DecodePayload(env, &req); err != nil {
			return nil, err
		}
		if err := validateClassic(req.Classic); err != nil {
			return nil, err
		}
		sa, err := tx.GetSmartAccount(ctx, inst.SmartAccountID)
		if err != nil {
			return nil, err
		}
		va, err := tx.GetVirtualAccountByID(ctx, inst.VirtualAccountID)
		if err != nil {
			return nil, err
		}
		ans := smartlic.ConversionAnswer{InstanceID: inst.ID, UDI: inst.UDI, VirtualAccount: va.Name, IssuedAt: now}
		ans.Lines, err = m.convertClassic(deviceActor(ctx, inst), tx, now, sa, va, inst, req.Classic)
		return ans, err
	})
}

func validateClassic(lines []smartlic.ClassicLicense) error {
	if len(lines) == 0 {
		return smartlic.Invalid("classic", "report at least one classic license")
	}
	if len(lines) > smartlic.MaxClassicLines {
		return smartlic.Invalid("classic", "at most %d classic licenses per request (got %d)", smartlic.MaxClassicLines, len(lines))
	}
	// One line per SKU: two would spread one device's units twice.
	seen := map[string]bool{}
	for _, l := range lines {
		if err := smartlic.ValidateSKU("classic.sku", l.SKU); err != nil {
			return err
		}
		if l.PAK != "" {
			if err := smartlic.ValidatePAKNumber("classic.pak", l.PAK); err != nil {
				return err
			}
		}
		if seen[l.SKU] {
			return smartlic.Invalid("classic.sku", "SKU %q is reported twice", l.SKU)
		}
		seen[l.SKU] = true
		if l.Count < 1 || l.Count > smartlic.MaxClassicQuantity {
			return smartlic.Invalid("classic.count", "must be between 1 and %d (got %d for %q)", smartlic.MaxClassicQuantity, l.Count, l.SKU)
		}
	}
	return nil
}

// deviceClaim is classic units of one fulfillment a device asks to convert.
type deviceClaim struct {
	idx  int // the reported line it answers
	df   smartlic.DeviceFulfillment
	sku  smartlic.ClassicSKU
	want int64 // units not yet converted for this device
	got  int64 // units claimed
}

// convertClassic converts what the reported classic licenses may, in three
// steps: find the units fulfilled on this device, claim them, deposit. The
// claims run in line id order, like the portal's, and all come before the
// first deposit and event, so concurrent conversions never deadlock. Each
// claim takes the device's fulfillment first, so two requests of one
// device queue on its row and the second finds the units taken; then the
// PAK line, which may have lost units to a portal conversion meanwhile:
// those count as already converted.
func (m *Manager) convertClassic(ctx context.Context, tx smartlic.Tx, now time.Time, sa smartlic.SmartAccount, va smartlic.VirtualAccount, inst smartlic.Instance, reported []smartlic.ClassicLicense) ([]smartlic.ConversionLine, error) {
	out := make([]smartlic.ConversionLine, len(reported))
	var claims []*deviceClaim
	for i, cl := range reported {
		out[i] = smartlic.ConversionLine{SKU: cl.SKU, PAK: cl.PAK, Reported: cl.Count, Status: smartlic.AlreadyConverted}
		sku, err := tx.GetClassicSKU(ctx, cl.SKU)
		if smartlic.ErrorCode(err) == smartlic.ENotFound || (err == nil && !sku.Convertible()) {
			out[i].Status = smartlic.NotMappable
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i].LicenseTag = sku.LicenseTag
		fs, err := tx.FulfillmentsOn(ctx, sa.ID, inst.UDI, cl.SKU, cl.PAK)
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			out[i].Status = smartlic.NoMatchingPAK
			continue
		}
		// The count is what the device holds: spread it over its
		// fulfillments, oldest PAK first, and ask for what is not yet
		// converted of each.
		budget := cl.Count
		for _, f := range fs {
			take := min(budget, f.Fulfillment.Count)
			budget -= take
			if n := take - f.Fulfillment.Converted; n > 0 {
				claims = append(claims, &deviceClaim{idx: i, df: f, sku: sku, want: n})
			}
		}
	}
	sort.Slice(claims, func(i, j int) bool {
		a, b := claims[i].df, claims[j].df
		if a.Line.ID != b.Line.ID {
			return a.Line.ID < b.Line.ID
		}
		return a.Fulfillment.ID < b.Fulfillment.ID
	})
	for _, c := range claims {
		ok, err := tx.ClaimFulfilledUnits(ctx, c.df.Fulfillment.ID, c.want)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // a concurrent request of this device took them
		}
		if ok, err = tx.ClaimPAKUnits(ctx, c.df.Line.ID, c.want); err != nil {
			return nil, err
		} else if ok {
			c.got = c.want
			continue
		}
		// The portal converted some of the line since it was read: take
		// what is left, if anything.
		p, err := tx.GetPAK(ctx, sa.ID, c.df.PAKID)
		if err != nil {
			return nil, err
		}
		for _, l := range p.Lines {
			if l.ID == c.df.Line.ID && l.Remaining() > 0 {
				n := min(c.want, l.Remaining())
				if ok, err := tx.ClaimPAKUnits(ctx, l.ID, n); err != nil {
					return nil, err
				} else if ok {
					c.got = n
				}
			}
		}
	}
	for _, c := range claims {
		if c.got == 0 {
			continue
		}
		conv, _, err := m.convertUnits(ctx, tx, now, conversionOf{sa: sa, va: va, pakID: c.df.PAKID, pakNumber: c.df.PAKNumber,
			orderNumber: c.df.OrderNumber, line: c.df.Line, sku: c.sku, units: c.got, inst: &inst})
		if err != nil {
			return nil, err
		}
		l := &out[c.idx]
		l.Converted += conv.Units
		l.Quantity += conv.Quantity
		l.Status = smartlic.Converted
	}
	return out, nil
}
