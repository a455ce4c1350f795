package manager

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/smartlic/smartlic"
)

// maxUsageLines bounds one authorization request.
const maxUsageLines = 200

// applyUsage replaces inst's usage with lines and keeps the VA's pool
// counters in step, inside the caller's transaction. Counters move first
// and are read back afterwards, so two instances racing for the last
// enforced license serialise on the counter row instead of both seeing it
// free. Rows are touched in license-type order so concurrent transactions
// lock them in one order and cannot deadlock.
func (m *Manager) applyUsage(ctx context.Context, tx smartlic.Tx, inst smartlic.Instance, lines []smartlic.Usage) ([]smartlic.Usage, error) {
	if len(lines) > maxUsageLines {
		return nil, smartlic.Invalid("usage", "at most %d license types per request (got %d)", maxUsageLines, len(lines))
	}
	product, err := tx.GetProduct(ctx, inst.ProductID)
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	type line struct {
		lt      smartlic.LicenseType
		count   int64
		counted int64 // what the pool counts for this instance after the change
		old     int64 // what it counted before
	}
	// A line of a type the device holds a SLAC for is covered by it: the
	// SLAC already holds the license.
	cover, err := slacCover(ctx, tx, inst.UDI)
	if err != nil {
		return nil, err
	}
	byType := map[string]*line{}
	for _, u := range inst.Usage {
		byType[u.LicenseTypeID] = &line{old: countedIn(u, cover)}
	}
	seen := map[string]bool{}
	for _, u := range lines {
		if err := smartlic.ValidateTag("usage.tag", u.LicenseTag); err != nil {
			return nil, refusedTag(err, u.LicenseTag)
		}
		if seen[u.LicenseTag] {
			return nil, smartlic.Invalid("usage.tag", "license %q is listed twice", u.LicenseTag)
		}
		seen[u.LicenseTag] = true
		if u.Count < 0 || u.Count > 1_000_000 {
			return nil, smartlic.Invalid("usage.count", "must be between 0 and 1000000 (got %d for %q)", u.Count, u.LicenseTag)
		}
		if !product.Allows(u.LicenseTag) {
			return nil, refusedTag(smartlic.Invalid("usage.tag", "product %s may not consume license %q", product.PID, u.LicenseTag), u.LicenseTag)
		}
		lt, err := getLicenseType(ctx, tx, u.LicenseTag, "usage.tag")
		if err != nil {
			return nil, refusedTag(err, u.LicenseTag)
		}
		l := byType[lt.ID]
		if l == nil {
			l = &line{}
			byType[lt.ID] = l
		}
		l.lt, l.count = lt, u.Count
		if u.Count > 0 && !cover[lt.ID] && !(lt.Enforcement == smartlic.ExportControlled && !inst.AllowExportControlled) {
			l.counted = u.Count
		}
	}
	ids := make([]string, 0, len(byType))
	for id := range byType {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if l := byType[id]; l.counted != l.old {
			if err := tx.AddInUse(ctx, inst.VirtualAccountID, id, l.counted-l.old, now); err != nil {
				return nil, err
			}
		}
	}
	purchased, inUse, err := m.poolState(ctx, tx, inst.VirtualAccountID, ids)
	if err != nil {
		return nil, err
	}
	var out []smartlic.Usage
	for _, id := range ids {
		l := byType[id]
		if l.count == 0 {
			continue // stopped using it
		}
		u := smartlic.Usage{LicenseTypeID: id, LicenseTag: l.lt.Tag, Count: l.count, Status: smartlic.Authorized}
		switch {
		case cover[id] && l.count > smartlic.SLACQuantity:
			u.Status = smartlic.NotAuthorized // more than the SLAC covers
		case cover[id]:
		case l.counted == 0:
			u.Status = smartlic.NotAuthorized // export-controlled without permission
		case inUse[id] <= purchased[id]:
		case l.lt.Enforcement == smartlic.Unenforced:
			u.Status = smartlic.OutOfCompliance
		default:
			// Enforced and the pool cannot cover it: the instance gets none
			// of this license and gives back what it just took.
			u.Status = smartlic.NotAuthorized
			if err := tx.AddInUse(ctx, inst.VirtualAccountID, id, -l.counted, now); err != nil {
				return nil, err
			}
		}
		out = append(out, u)
	}
	if err := tx.SetUsage(ctx, inst.ID, out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LicenseTag < out[j].LicenseTag })
	return out, nil
}

// refusedTag names the line a refusal of a usage line is about in the
// error's Tags, so that a device drops that line without reading the
// message (agent.DroppedUsage). An outage is no refusal of the line.
func refusedTag(err error, tag string) error {
	var e *smartlic.Error
	if !errors.As(err, &e) || e.Code != smartlic.EInvalid {
		return err
	}
	tagged := *e
	tagged.Tags = []string{tag}
	return &tagged
}

// countedOf is what a stored usage line adds to its pool.
func countedOf(u smartlic.Usage) int64 {
	if u.Status == smartlic.NotAuthorized {
		return 0
	}
	return u.Count
}

// poolState returns purchased (active deposits) and in use per license
// type of one VA's pools of typeIDs: the pools a change touches, read at a
// cost that does not grow with the VA's other license types.
func (m *Manager) poolState(ctx context.Context, tx smartlic.Tx, vaID string, typeIDs []string) (purchased, inUse map[string]int64, err error) {
	deposits, counters, err := tx.PoolStateOf(ctx, vaID, typeIDs)
	if err != nil {
		return nil, nil, err
	}
	now := m.clock.Now()
	purchased, inUse = map[string]int64{}, map[string]int64{}
	for _, d := range deposits {
		if d.ActiveAt(now) {
			purchased[d.LicenseTypeID] += d.Quantity
		}
	}
	for _, c := range counters {
		inUse[c.LicenseTypeID] += c.InUse
	}
	return purchased, inUse, nil
}

// removeInstance deletes inst, gives its usage back to the pool and records
// why (event type and a phrase for the message).
func (m *Manager) removeInstance(ctx context.Context, tx smartlic.Tx, inst smartlic.Instance, typ, why string) error {
	usage := append([]smartlic.Usage(nil), inst.Usage...)
	sort.Slice(usage, func(i, j int) bool { return usage[i].LicenseTypeID < usage[j].LicenseTypeID })
	// Its SLACs stay (they are bound to the serial number, not to the
	// registration) and so do the licenses they hold.
	cover, err := slacCover(ctx, tx, inst.UDI)
	if err != nil {
		return err
	}
	for _, u := range usage {
		if n := countedIn(u, cover); n != 0 {
			if err := tx.AddInUse(ctx, inst.VirtualAccountID, u.LicenseTypeID, -n, m.clock.Now()); err != nil {
				return err
			}
		}
	}
	if err := tx.DeleteInstance(ctx, inst.ID); err != nil {
		return err
	}
	return m.record(ctx, tx, smartlic.Event{Type: typ, SmartAccountID: inst.SmartAccountID, VirtualAccountID: inst.VirtualAccountID, Subject: inst.ID,
		Message: fmt.Sprintf("%s (%s) %s; its licenses returned to the pool", inst.UDI, inst.Hostname, why), Before: eventData(inst)})
}

// sameUsage reports whether two usage lists say the same (order aside).
func sameUsage(a, b []smartlic.Usage) bool {
	if len(a) != len(b) {
		return false
	}
	byTag := map[string]smartlic.Usage{}
	for _, u := range a {
		byTag[u.LicenseTag] = u
	}
	for _, u := range b {
		if o, ok := byTag[u.LicenseTag]; !ok || o.Count != u.Count || o.Status != u.Status {
			return false
		}
	}
	return true
}

func usageSummary(usage []smartlic.Usage) string {
	if len(usage) == 0 {
		return "no licenses"
	}
	parts := make([]string, len(usage))
	for i, u := range usage {
		parts[i] = fmt.Sprintf("%d × %s (%s)", u.Count, u.LicenseTag, u.Status)
	}
	return strings.Join(parts, ", ")
}

// ListInstances lists the instances registered in a VA.
func (m *Manager) ListInstances(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Instance, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.Instance
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, va, err := m.getVAAs(ctx, tx, PermLicenseView, saKey, vaKey)
		if err != nil {
			return err
		}
		if out, err = tx.ListInstances(ctx, va.ID, p); err != nil {
			return err
		}
		pools, err := m.pools(ctx, tx, []string{va.ID}, nil)
		if err != nil {
			return err
		}
		for i := range out {
			out[i].WithPools(pools)
		}
		return m.withReporting(ctx, tx, va.SmartAccountID, out)
	})
	out, next := cutPage(p, out, func(i smartlic.Instance) string { return i.ID })
	now := m.clock.Now()
	for i := range out {
		out[i].Authorization = out[i].AuthorizationAt(now)
	}
	return out, next, err
}

// GetInstance finds an instance of a VA by id or UDI.
func (m *Manager) GetInstance(ctx context.Context, saKey, vaKey, key string) (inst smartlic.Instance, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		if inst, err = m.getInstanceIn(ctx, tx, PermLicenseView, saKey, vaKey, key); err != nil {
			return err
		}
		pools, err := m.pools(ctx, tx, []string{inst.VirtualAccountID}, nil)
		if err != nil {
			return err
		}
		inst.WithPools(pools)
		one := []smartlic.Instance{inst}
		err = m.withReporting(ctx, tx, inst.SmartAccountID, one)
		inst = one[0]
		return err
	})
	inst.Authorization = inst.AuthorizationAt(m.clock.Now())
	return inst, err
}

// RemoveInstance deletes an instance from the portal side (the device is
// gone or replaced) and returns its usage to the pool.
func (m *Manager) RemoveInstance(ctx context.Context, saKey, vaKey, key string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		inst, err := m.getInstanceIn(ctx, tx, PermLicenseManage, saKey, vaKey, key)
		if err != nil {
			return err
		}
		return m.removeInstance(ctx, tx, inst, "instance.removed", "removed from the portal")
	})
}

// getInstanceIn finds an instance by id or PID:SN in the VA vaKey or, with
// an empty vaKey, in whichever VA of the Smart Account holds it: both keys
// are unique, and "not found in DEFAULT" for an instance elsewhere misleads.
func (m *Manager) getInstanceIn(ctx context.Context, tx smartlic.Tx, perm Permission, saKey, vaKey, key string) (smartlic.Instance, error) {
	if vaKey == "" {
		return m.getInstanceInAccount(ctx, tx, perm, saKey, key)
	}
	_, va, err := m.getVAAs(ctx, tx, perm, saKey, vaKey)
	if err != nil {
		return smartlic.Instance{}, err
	}
	inst, err := getInstanceByKey(ctx, tx, key)
	if err != nil {
		return inst, err
	}
	if inst.VirtualAccountID != va.ID {
		return smartlic.Instance{}, smartlic.NotFound("instance %q not found in Virtual Account %q", key, va.Name)
	}
	return inst, nil
}

func (m *Manager) getInstanceInAccount(ctx context.Context, tx smartlic.Tx, perm Permission, saKey, key string) (smartlic.Instance, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return smartlic.Instance{}, err
	}
	notFound := smartlic.NotFound("instance %q not found in Smart Account %s", key, sa.Domain)
	inst, err := getInstanceByKey(ctx, tx, key)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return inst, notFound
	}
	if err != nil {
		return inst, err
	}
	va, err := tx.GetVirtualAccountByID(ctx, inst.VirtualAccountID)
	if err != nil {
		return smartlic.Instance{}, err
	}
	if va.SmartAccountID != sa.ID {
		return smartlic.Instance{}, notFound
	}
	return inst, m.authorize(ctx, tx, perm, &sa, &va)
}

// getInstanceByKey reads an instance by its id or its UDI (PID:SN).
func getInstanceByKey(ctx context.Context, tx smartlic.Tx, key string) (smartlic.Instance, error) {
	if strings.Contains(key, ":") {
		udi, err := smartlic.ParseUDI("instance", key)
		if err != nil {
			return smartlic.Instance{}, err
		}
		return tx.GetInstanceByUDI(ctx, udi)
	}
	return tx.GetInstance(ctx, key)
}
