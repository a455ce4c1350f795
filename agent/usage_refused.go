package agent

import (
	"errors"
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

// refusedLines returns the usage lines an authorization refusal is about:
// the manager lists their tags in the error's Tags ("tags" in the error
// body) when it refuses a line outright. A manager older than that field
// only quoted the tag in its message (`product X may not consume license
// "t"`); its refusal is read from the message when it quotes exactly one
// line.
func refusedLines(err error, usage []smartlic.Usage) []smartlic.Usage {
	var e *smartlic.Error
	if !errors.As(err, &e) || e.Field != "usage.tag" || (e.Code != smartlic.EInvalid && e.Code != smartlic.ENotFound) {
		return nil
	}
	var found []smartlic.Usage
	for _, u := range usage {
		if slices.Contains(e.Tags, u.LicenseTag) || (e.Tags == nil && strings.Contains(e.Message, strconv.Quote(u.LicenseTag))) {
			found = append(found, u)
		}
	}
	if e.Tags == nil && len(found) != 1 {
		return nil
	}
	return found
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
