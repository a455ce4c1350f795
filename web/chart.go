package web

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// usageChart is a license type's history drawn as SVG by the server: the
// purchased quantity as a step line, in use per day, and the projection's
// trend line continued to the day it passes purchases. Everything is
// coordinates and classes (static/app.css colours them): the CSP allows
// no inline style or script.
type usageChart struct {
	Width, Height            int
	Left, Top, Right, Bottom float64 // the plot area
	TickEnd                  float64 // the x ticks' lower end
	Purchased, InUse, Trend  string  // polyline points
	Crossing                 *chartMark
	XTicks, YTicks           []chartTick
	Title, Desc              string
}

type chartTick struct {
	X, Y  float64
	Label string
}

type chartMark struct {
	X, Y  float64
	Label string
}

// Chart geometry, in viewBox units: the SVG scales to its container.
const (
	chartWidth, chartHeight = 720, 300
	chartLeft, chartRight   = 48, 12
	chartTop, chartBottom   = 12, 36
	// chartAhead is how far past today the trend is drawn when it does
	// not cross within the chart's own length.
	chartAhead = 30 * smartlic.Day
)

// newUsageChart lays out h. The x axis runs from the first day to today,
// extended to the projected crossing when it is no further ahead than the
// history is long (a crossing years away would squash the history; the
// sentence beside the chart gives its date), or by chartAhead otherwise.
func newUsageChart(h smartlic.LicenseHistory) *usageChart {
	if len(h.Points) == 0 {
		return nil
	}
	first, last := h.Points[0].Day, h.Points[len(h.Points)-1].Day
	p := h.Projection
	end := last.Add(chartAhead)
	span := last.Sub(first)
	if p.ExceedsOn != nil && p.ExceedsOn.Sub(last) <= max(span, chartAhead) {
		end = p.ExceedsOn.Add(2 * smartlic.Day)
	}
	c := &usageChart{Width: chartWidth, Height: chartHeight, Left: chartLeft, Top: chartTop,
		Right: chartWidth - chartRight, Bottom: chartHeight - chartBottom, TickEnd: chartHeight - chartBottom + 5}
	var top int64 = 1
	for _, pt := range h.Points {
		top = max(top, pt.Purchased, pt.InUse)
	}
	trendEnd := 0.0
	if p.State != smartlic.ProjectionUnknown {
		trendEnd = p.At(end)
		top = max(top, int64(math.Min(trendEnd, float64(top)*2)))
	}
	step := niceStep(float64(top))
	yMax := math.Ceil(float64(top)*1.05/step) * step
	x := func(t time.Time) float64 {
		return c.Left + (c.Right-c.Left)*t.Sub(first).Hours()/end.Sub(first).Hours()
	}
	y := func(v float64) float64 {
		v = math.Max(0, math.Min(v, yMax))
		return c.Bottom - (c.Bottom-c.Top)*v/yMax
	}
	var purchased, inUse []string
	for i, pt := range h.Points {
		if i > 0 {
			purchased = append(purchased, xy(x(pt.Day), y(float64(h.Points[i-1].Purchased))))
		}
		purchased = append(purchased, xy(x(pt.Day), y(float64(pt.Purchased))))
		inUse = append(inUse, xy(x(pt.Day), y(float64(pt.InUse))))
	}
	// Purchased is assumed to stay as it is today, as the projection does.
	purchased = append(purchased, xy(c.Right, y(float64(h.Points[len(h.Points)-1].Purchased))))
	c.Purchased, c.InUse = strings.Join(purchased, " "), strings.Join(inUse, " ")
	if p.State != smartlic.ProjectionUnknown {
		c.Trend = xy(x(p.WindowStart), y(p.At(p.WindowStart))) + " " + xy(c.Right, y(trendEnd))
	}
	if p.ExceedsOn != nil && !p.ExceedsOn.After(end) {
		c.Crossing = &chartMark{X: x(*p.ExceedsOn), Y: y(float64(p.Purchased)), Label: p.ExceedsOn.Format("Jan 2")}
	}
	for v := 0.0; v <= yMax+step/2; v += step {
		c.YTicks = append(c.YTicks, chartTick{X: c.Left - 6, Y: y(v), Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	// A tick at the start of each month, or of each week on short spans.
	days := end.Sub(first).Hours() / 24
	for t := first; !t.After(end); t = t.Add(smartlic.Day) {
		if (days > 45 && t.Day() == 1) || (days <= 45 && t.Weekday() == time.Monday) {
			c.XTicks = append(c.XTicks, chartTick{X: x(t), Y: c.Bottom + 18, Label: t.Format("Jan 2")})
		}
	}
	name := h.LicenseName
	if h.VirtualAccount != "" {
		name += " in " + h.VirtualAccount
	}
	c.Title = name + ": in use and purchased per day"
	last0 := h.Points[len(h.Points)-1]
	c.Desc = "From " + first.Format(time.DateOnly) + " to " + last.Format(time.DateOnly) + ", in use went from " +
		itoa(h.Points[0].InUse) + " to " + itoa(last0.InUse) + " with " + itoa(last0.Purchased) + " purchased now. " + p.Summary()
	return c
}

func xy(x, y float64) string {
	return strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64)
}

// niceStep is a round grid step (1, 2 or 5 × 10ⁿ) giving about five lines
// up to top.
func niceStep(top float64) float64 {
	raw := top / 5
	if raw <= 1 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}
