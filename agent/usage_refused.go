package agent

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// DroppedUsage is a usage line the manager refused outright (a license
// the product may not consume, or one the catalogue does not know). Kept,
// the line would be sent again with every authorization request and fail
// each one, so no other change, not even lowering a count, could ever be
// authorized: the agent drops it, asks again without it, and keeps this
// record so the person learns why the license went away.
type DroppedUsage struct {
	LicenseTag string    `json:"license_tag"`
	Count      int64     `json:"count"`
	Reason     string    `json:"reason"` // the manager's refusal
	At         time.Time `json:"at"`
}

// refusedLine names the usage line an authorization refusal is about, if
// it is about exactly one of usage's lines (the manager quotes the tag in
// its message: `product X may not consume license "t"`, `unknown license
// type "t"`).
func refusedLine(err error, usage []smartlic.Usage) (smartlic.Usage, bool) {
	if err == nil || smartlic.ErrorField(err) != "usage.tag" {
		return smartlic.Usage{}, false
	}
	if c := smartlic.ErrorCode(err); c != smartlic.EInvalid && c != smartlic.ENotFound {
		return smartlic.Usage{}, false
	}
	msg := err.Error()
	var found []smartlic.Usage
	for _, u := range usage {
		if strings.Contains(msg, strconv.Quote(u.LicenseTag)) {
			found = append(found, u)
		}
	}
	if len(found) != 1 {
		return smartlic.Usage{}, false
	}
	return found[0], true
}

// dropUsage removes the refused lines from the usage and records them as
// the drops of the latest authorization. Callers hold a.op.
func (a *Agent) dropUsage(dropped []DroppedUsage) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := cloneState(a.st)
	next.DroppedUsage = slices.Clone(dropped)
	next.Usage = slices.DeleteFunc(next.Usage, func(u smartlic.Usage) bool {
		return slices.ContainsFunc(dropped, func(d DroppedUsage) bool { return d.LicenseTag == u.LicenseTag })
	})
	return a.commit(next)
}
