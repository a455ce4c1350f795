package manager

import (
	"context"
	"encoding/json"
	"time"

	"github.com/smartlic/smartlic"
)

// maxAlertInstances bounds the instances one alert computation reads per
// Smart Account (most urgent first), so that an account whose whole fleet
// went dark does not produce an unbounded answer or e-mail.
const maxAlertInstances = 1000

var _ smartlic.AlertService = (*Manager)(nil)

// ListAlerts computes the current alerts of a Smart Account or, with va,
// of that VA and its descendants.
func (m *Manager) ListAlerts(ctx context.Context, saKey, vaKey string) (out []smartlic.Alert, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		var va *smartlic.VirtualAccount
		if vaKey != "" {
			v, err := getVAIn(ctx, tx, sa, vaKey, "va")
			if err != nil {
				return err
			}
			va = &v
		}
		if err := m.authorize(ctx, tx, PermLicenseView, &sa, va); err != nil {
			return err
		}
		root := ""
		if va != nil {
			root = va.ID
		}
		out, _, err = m.computeAlerts(ctx, tx, sa, root)
		return err
	})
	return out, err
}

// computeAlerts returns the alerts of the subtree under rootVA (the whole
// Smart Account when empty), and the VA tree it used. Pool alerts come
// from the maintained counters and deposits (m.pools), instance alerts
// from an indexed range of instances, so the cost does not grow with the
// number of healthy instances.
func (m *Manager) computeAlerts(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, rootVA string) ([]smartlic.Alert, vaTree, error) {
	all, err := tx.AllVirtualAccounts(ctx, sa.ID)
	if err != nil {
		return nil, vaTree{}, err
	}
	tree := newVATree(all)
	vas := all
	if rootVA != "" {
		vas = tree.subtree(rootVA)
	}
	inScope := make(map[string]smartlic.VirtualAccount, len(vas))
	for _, v := range vas {
		inScope[v.ID] = v
	}
	now := m.clock.Now()
	out := []smartlic.Alert{}
	pools, err := m.pools(ctx, tx, idsOf(vas), nil)
	if err != nil {
		return nil, tree, err
	}
	for _, p := range pools {
		out = append(out, smartlic.PoolAlerts(now, sa.ID, inScope[p.VirtualAccountID], p)...)
	}
	// Both bounds are exclusive in the store and inclusive in the rules:
	// one microsecond, the stores' precision, bridges them.
	insts, err := tx.InstancesNeedingAttention(ctx, sa.ID, now.Add(smartlic.RenewalWarning+time.Microsecond), now.Add(time.Microsecond), maxAlertInstances)
	if err != nil {
		return nil, tree, err
	}
	for _, i := range insts {
		if va, ok := inScope[i.VirtualAccountID]; ok {
			out = append(out, smartlic.InstanceAlerts(now, va, i)...)
		}
	}
	// Under Using Policy an instance is overdue when it missed its
	// reporting deadline or left a usage change unreported past the
	// policy's window.
	overdue, err := m.overduePolicyInstances(ctx, tx, sa.ID)
	if err != nil {
		return nil, tree, err
	}
	for _, i := range overdue {
		if va, ok := inScope[i.VirtualAccountID]; ok {
			out = append(out, smartlic.ReportingAlerts(va, i)...)
		}
	}
	pending, err := tx.ListReservations(ctx, sa.ID, nil, smartlic.ReservationFilter{Status: "pending"}, smartlic.Page{Limit: maxAlertInstances})
	if err != nil {
		return nil, tree, err
	}
	for _, r := range pending {
		if va, ok := inScope[r.VirtualAccountID]; ok {
			out = append(out, smartlic.ReservationAlerts(now, va, r)...)
		}
	}
	// TODO(satellites): raise smartlic.AlertSatelliteSyncOverdue for
	// satellites that have not synchronised within 30 days, once satellites
	// exist: there is nothing to compute it from today.
	smartlic.SortAlerts(out)
	return out, tree, nil
}

// ScanAlerts is the background job behind immediate notifications. For
// every active Smart Account it computes the current alerts, compares them
// with the alerts raised by the previous scan, queues one webhook delivery
// per new alert and subscribed webhook, and returns the e-mails owed now to
// recipients with immediate preferences (new alerts only). Conditions that
// cleared are forgotten, so they notify again should they return. Each
// account is one transaction: the remembered alerts, the queued deliveries
// and the recipients' last-sent times commit together.
func (m *Manager) ScanAlerts(ctx context.Context) ([]smartlic.Digest, error) {
	var digests []smartlic.Digest
	err := m.eachSmartAccount(ctx, func(sa smartlic.SmartAccount) error {
		return m.st.Write(ctx, func(tx smartlic.Tx) error {
			d, err := m.scanAccount(ctx, tx, sa)
			digests = append(digests, d...)
			return err
		})
	})
	return digests, err
}

func (m *Manager) scanAccount(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount) ([]smartlic.Digest, error) {
	now := m.clock.Now()
	alerts, tree, err := m.computeAlerts(ctx, tx, sa, "")
	if err != nil {
		return nil, err
	}
	states, err := tx.ListAlertStates(ctx, sa.ID)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(states))
	for _, s := range states {
		known[s.Key] = true
	}
	current := make(map[string]bool, len(alerts))
	var raised []smartlic.Alert
	for _, a := range alerts {
		current[a.Key] = true
		if known[a.Key] {
			continue
		}
		raised = append(raised, a)
		if err := tx.InsertAlertState(ctx, smartlic.AlertState{SmartAccountID: sa.ID, Key: a.Key, Type: a.Type, RaisedAt: now}); err != nil {
			return nil, err
		}
	}
	for _, s := range states {
		if !current[s.Key] {
			if err := tx.DeleteAlertState(ctx, sa.ID, s.Key); err != nil {
				return nil, err
			}
		}
	}
	if len(raised) == 0 {
		return nil, nil
	}
	if err := m.queueAlertDeliveries(ctx, tx, sa, raised, now); err != nil {
		return nil, err
	}
	prefs, err := tx.ListNotificationPreferences(ctx, sa.ID)
	if err != nil {
		return nil, err
	}
	var out []smartlic.Digest
	for _, p := range prefs {
		if p.Frequency != smartlic.Immediate {
			continue
		}
		mine := filterAlerts(raised, p, tree)
		if len(mine) == 0 {
			continue
		}
		if _, err := tx.MarkPreferenceSent(ctx, p.ID, now.Add(time.Microsecond), now); err != nil {
			return nil, err
		}
		out = append(out, smartlic.Digest{SmartAccount: sa, Email: p.Email, Frequency: p.Frequency, Alerts: mine})
	}
	return out, nil
}

// DueSummaries returns the daily or weekly summary e-mails owed now: one
// per recipient of that frequency whose last summary is at least most of a
// period old, listing every current alert the recipient watches. Each
// recipient is claimed (its last-sent time moved) in the transaction that
// reads it, so a summary is owed once per period whoever asks; recipients
// with nothing to report are claimed and get no e-mail.
func (m *Manager) DueSummaries(ctx context.Context, f smartlic.Frequency) ([]smartlic.Digest, error) {
	var period time.Duration
	switch f {
	case smartlic.Daily:
		period = smartlic.Day
	case smartlic.Weekly:
		period = 7 * smartlic.Day
	default:
		return nil, smartlic.Invalid("frequency", "summaries are daily or weekly (got %q)", f)
	}
	now := m.clock.Now()
	// A little slack, so that a job running a few minutes early one day
	// does not skip the recipient until the day after.
	before := now.Add(-period + time.Hour)
	var out []smartlic.Digest
	for {
		var batch []smartlic.NotificationPreference
		err := m.st.Write(ctx, func(tx smartlic.Tx) error {
			prefs, err := tx.PreferencesDue(ctx, f, before, 200)
			if err != nil {
				return err
			}
			type account struct {
				sa     smartlic.SmartAccount
				alerts []smartlic.Alert
				tree   vaTree
			}
			accounts := map[string]*account{}
			for _, p := range prefs {
				ok, err := tx.MarkPreferenceSent(ctx, p.ID, before, now)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				batch = append(batch, p)
				a := accounts[p.SmartAccountID]
				if a == nil {
					sa, err := tx.GetSmartAccount(ctx, p.SmartAccountID)
					if err != nil {
						return err
					}
					alerts, tree, err := m.computeAlerts(ctx, tx, sa, "")
					if err != nil {
						return err
					}
					a = &account{sa: sa, alerts: alerts, tree: tree}
					accounts[p.SmartAccountID] = a
				}
				if a.sa.Status != smartlic.SAActive {
					continue // not approved (yet): nothing to report on
				}
				if mine := filterAlerts(a.alerts, p, a.tree); len(mine) > 0 {
					out = append(out, smartlic.Digest{SmartAccount: a.sa, Email: p.Email, Frequency: f, Alerts: mine})
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		if len(batch) == 0 {
			return out, nil
		}
	}
}

// filterAlerts keeps the alerts a preference asks for: its types, and its
// VAs' subtrees.
func filterAlerts(alerts []smartlic.Alert, p smartlic.NotificationPreference, tree vaTree) []smartlic.Alert {
	var watched map[string]bool
	if len(p.VirtualAccounts) > 0 {
		watched = map[string]bool{}
		for _, id := range p.VirtualAccounts {
			if _, ok := tree.byID[id]; !ok {
				continue // deleted since
			}
			for _, v := range tree.subtree(id) {
				watched[v.ID] = true
			}
		}
	}
	var out []smartlic.Alert
	for _, a := range alerts {
		if !smartlic.Subscribed(p.AlertTypes, a.Type) {
			continue
		}
		if watched != nil && !watched[a.VirtualAccountID] {
			continue
		}
		out = append(out, a)
	}
	return out
}

// eachSmartAccount calls fn for every active Smart Account, a page at a
// time, outside any transaction.
func (m *Manager) eachSmartAccount(ctx context.Context, fn func(smartlic.SmartAccount) error) error {
	p := smartlic.Page{Limit: 200}
	for {
		var sas []smartlic.SmartAccount
		err := m.st.Read(ctx, func(tx smartlic.Tx) error {
			var err error
			sas, err = tx.ListSmartAccounts(ctx, smartlic.SAActive, p)
			return err
		})
		if err != nil {
			return err
		}
		for _, sa := range sas {
			if err := fn(sa); err != nil {
				return err
			}
		}
		if len(sas) < p.Limit {
			return nil
		}
		p.After = sas[len(sas)-1].ID
	}
}

// AlertEvent is the JSON body of an "alert.raised" webhook delivery.
type AlertEvent struct {
	ID           string         `json:"id"` // the delivery id: receivers deduplicate by it
	Event        string         `json:"event"`
	CreatedAt    time.Time      `json:"created_at"`
	SmartAccount AlertEventSA   `json:"smart_account"`
	Alert        smartlic.Alert `json:"alert"`
}

// AlertEventSA names the Smart Account of an event.
type AlertEventSA struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

// EventAlertRaised is the webhook event of a new alert.
const EventAlertRaised = "alert.raised"

func (m *Manager) queueAlertDeliveries(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, raised []smartlic.Alert, now time.Time) error {
	hooks, err := tx.ListWebhooks(ctx, sa.ID)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		for _, a := range raised {
			if !smartlic.Subscribed(h.AlertTypes, a.Type) {
				continue
			}
			id := newID()
			body, err := json.Marshal(AlertEvent{ID: id, Event: EventAlertRaised, CreatedAt: now,
				SmartAccount: AlertEventSA{ID: sa.ID, Domain: sa.Domain}, Alert: a})
			if err != nil {
				return smartlic.Internal(err, "encoding a webhook event")
			}
			next := now
			if err := tx.InsertDelivery(ctx, smartlic.WebhookDelivery{
				ID: id, WebhookID: h.ID, Event: EventAlertRaised, Payload: string(body),
				Status: smartlic.DeliveryPending, NextAttemptAt: &next, CreatedAt: now,
			}); err != nil {
				return err
			}
		}
	}
	return nil
}
