package smartlic

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// A license type's history is read from what is already recorded: the
// pool history (every change of an in-use counter, written by AddInUse in
// the transaction of the change) and the deposits with their start and end
// dates. Nothing is sampled, so the history is exact from the first
// change on, and a day that was missed by a background job cannot exist.

// History bounds: how many days a history covers by default and at most,
// and how many of the latest days the trend is fitted on.
const (
	DefaultHistoryDays = 90
	MaxHistoryDays     = 366
	TrendWindowDays    = 30
	// ProjectionHorizon is how far ahead a projection looks: a crossing
	// further away than this is no forecast anyone should act on.
	ProjectionHorizon = 5 * 365 * Day
)

// HistoryQuery asks for the daily history of one license type in a Smart
// Account, or in one VA and every VA below it.
type HistoryQuery struct {
	VA   string `json:"va,omitempty"`
	Days int    `json:"days,omitempty"` // 0 means DefaultHistoryDays
}

// Validate checks the number of days.
func (q HistoryQuery) Validate() error {
	if q.Days != 0 && (q.Days < 2 || q.Days > MaxHistoryDays) {
		return Invalid("days", "must be between 2 and %d (got %d)", MaxHistoryDays, q.Days)
	}
	return nil
}

// HistoryPoint is one day (UTC) of a license type: purchased and in use as
// they stood at the end of the day (at the moment of the report for
// today), and the most in use at any moment of the day.
type HistoryPoint struct {
	Day       time.Time `json:"day"`
	Purchased int64     `json:"purchased"`
	InUse     int64     `json:"in_use"`
	PeakInUse int64     `json:"peak_in_use"`
}

// ProjectionState is what the trend says about running out.
type ProjectionState string

const (
	ProjectionExceeded ProjectionState = "exceeded" // in use is above purchased already
	ProjectionCrosses  ProjectionState = "crosses"  // the trend passes purchased on ExceedsOn
	ProjectionNone     ProjectionState = "none"     // flat or falling, or beyond the horizon
	ProjectionUnknown  ProjectionState = "unknown"  // fewer than two days of history
)

// Projection is the least-squares line through the in-use counts of the
// last Window days, and the day it passes today's purchased quantity.
type Projection struct {
	State       ProjectionState `json:"state"`
	Window      int             `json:"window_days"`
	SlopePerDay float64         `json:"slope_per_day"` // licenses per day
	Intercept   float64         `json:"intercept"`     // the line's value on the window's first day
	WindowStart time.Time       `json:"window_start"`
	Purchased   int64           `json:"purchased"`
	InUse       int64           `json:"in_use"`
	ExceedsOn   *time.Time      `json:"exceeds_on,omitempty"`
}

// At is the trend line's value on day t.
func (p Projection) At(t time.Time) float64 {
	return p.Intercept + p.SlopePerDay*t.Sub(p.WindowStart).Hours()/24
}

// Summary says the projection in a sentence, as the portal and the CLI
// show it.
func (p Projection) Summary() string {
	switch p.State {
	case ProjectionExceeded:
		return fmt.Sprintf("Usage already exceeds purchases: %d in use, %d purchased.", p.InUse, p.Purchased)
	case ProjectionCrosses:
		return fmt.Sprintf("At the current trend (%s a day over the last %d days), usage exceeds purchases around %s.",
			signed(p.SlopePerDay), p.Window, p.ExceedsOn.Format(time.DateOnly))
	case ProjectionNone:
		if p.SlopePerDay > 0 {
			return fmt.Sprintf("At the current trend (%s a day over the last %d days), usage does not exceed purchases within %d years.",
				signed(p.SlopePerDay), p.Window, int(ProjectionHorizon/(365*Day)))
		}
		return fmt.Sprintf("Usage does not exceed purchases at the current trend (%s a day over the last %d days).", signed(p.SlopePerDay), p.Window)
	default:
		return "Not enough history for a trend yet."
	}
}

func signed(f float64) string {
	s := strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
	if f > 0 {
		s = "+" + s
	}
	return s
}

// ProjectUsage fits in use = a + b·day by least squares over the last
// window points (consecutive days) and finds the first day the line is
// above the last point's purchased quantity. Purchases are taken as they
// stand today: the projection answers "if nothing is bought or ends".
func ProjectUsage(points []HistoryPoint, window int) Projection {
	if window < 2 {
		window = 2
	}
	if len(points) > window {
		points = points[len(points)-window:]
	}
	p := Projection{State: ProjectionUnknown, Window: len(points)}
	if len(points) == 0 {
		return p
	}
	last := points[len(points)-1]
	p.Purchased, p.InUse, p.WindowStart = last.Purchased, last.InUse, points[0].Day
	if last.InUse > last.Purchased {
		p.State = ProjectionExceeded
	}
	if len(points) < 2 {
		return p
	}
	n := float64(len(points))
	var sx, sy float64
	for i, pt := range points {
		sx += float64(i)
		sy += float64(pt.InUse)
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for i, pt := range points {
		dx := float64(i) - mx
		sxy += dx * (float64(pt.InUse) - my)
		sxx += dx * dx
	}
	p.SlopePerDay = sxy / sxx
	p.Intercept = my - p.SlopePerDay*mx
	if p.State == ProjectionExceeded {
		return p
	}
	p.State = ProjectionNone
	if p.SlopePerDay <= 0 {
		return p
	}
	// The line exceeds purchased once a + b·x > P: the first whole day
	// after x* = (P − a)/b, and never earlier than tomorrow (today's
	// count is known, and it is not above).
	lastX := n - 1
	cross := (float64(last.Purchased) - p.Intercept) / p.SlopePerDay
	ahead := math.Max(1, math.Floor(cross-lastX)+1)
	if ahead*float64(Day) > float64(ProjectionHorizon) {
		return p
	}
	on := last.Day.Add(time.Duration(ahead) * Day)
	p.State, p.ExceedsOn = ProjectionCrosses, &on
	return p
}

// DailyHistory builds the points of the days from first (midnight UTC)
// to the day of now, both included. start is the in-use count of each VA
// at first (keyed by VA id), changes the pool history entries after first
// up to now (of any VA, in any order); deposits every deposit of the
// license type in scope.
func DailyHistory(first, now time.Time, start map[string]int64, changes []InUseChange, deposits []Deposit) []HistoryPoint {
	changes = slices.Clone(changes)
	slices.SortStableFunc(changes, func(a, b InUseChange) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq))
	})
	current := map[string]int64{}
	var total int64
	for va, n := range start {
		current[va] = n
		total += n
	}
	var out []HistoryPoint
	next := 0
	for day := first; !day.After(now); day = day.Add(Day) {
		end := day.Add(Day)
		if end.After(now) {
			end = now.Add(time.Microsecond) // today: up to and including now
		}
		peak := total
		for next < len(changes) && changes[next].At.Before(end) {
			c := changes[next]
			total += c.InUse - current[c.VirtualAccountID]
			current[c.VirtualAccountID] = c.InUse
			peak = max(peak, total)
			next++
		}
		at := end.Add(-time.Microsecond)
		var purchased int64
		for _, d := range deposits {
			if d.ActiveAt(at) {
				purchased += d.Quantity
			}
		}
		out = append(out, HistoryPoint{Day: day, Purchased: purchased, InUse: total, PeakInUse: peak})
	}
	return out
}

// LicenseHistory is a license type's daily history in a scope, with the
// projection of its trend.
type LicenseHistory struct {
	LicenseTag       string         `json:"license_tag"`
	LicenseName      string         `json:"license_name"`
	VirtualAccountID string         `json:"virtual_account_id,omitempty"` // the scope's root; empty for the whole account
	VirtualAccount   string         `json:"virtual_account,omitempty"`
	From             time.Time      `json:"from"` // the first day
	At               time.Time      `json:"at"`   // the moment of the report
	Points           []HistoryPoint `json:"points"`
	Projection       Projection     `json:"projection"`
}

// Table returns the history's rows, one per day.
func (h LicenseHistory) Table() Table {
	t := Table{Header: []string{"day", "purchased", "in_use", "peak_in_use", "available"}}
	for _, p := range h.Points {
		t.Rows = append(t.Rows, []string{p.Day.Format(time.DateOnly), itoa(p.Purchased), itoa(p.InUse), itoa(p.PeakInUse), itoa(p.Purchased - p.InUse)})
	}
	return t
}

// HistoryService answers the history of license usage.
type HistoryService interface {
	// LicenseHistory returns the daily history of license type license
	// (tag or id) in Smart Account sa, or in q.VA and the VAs below it.
	LicenseHistory(ctx context.Context, sa, license string, q HistoryQuery) (LicenseHistory, error)
}
