package cli

import (
	"fmt"
	"io"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// writeDropped lists the usage lines the latest authorization dropped
// because the manager refused them, so a license that went away says why.
func writeDropped(w io.Writer, st agent.Status) {
	if len(st.DroppedUsage) == 0 {
		return
	}
	fmt.Fprintf(w, "\nLicenses Dropped (the server refused them; no longer reported):\n")
	for _, d := range st.DroppedUsage {
		fmt.Fprintf(w, "  %s (count %d): %s\n", d.LicenseTag, d.Count, d.Reason)
	}
}

// droppedTag returns the drop of tag in the latest authorization, if any.
func droppedTag(st agent.Status, tag string) (agent.DroppedUsage, bool) {
	for _, d := range st.DroppedUsage {
		if d.LicenseTag == tag {
			return d, true
		}
	}
	return agent.DroppedUsage{}, false
}

// droppedError is what "use" answers when the manager refused the very
// license it changed: the line is gone from the usage, the rest was
// authorized without it.
func droppedError(d agent.DroppedUsage, before int64) error {
	if before == 0 {
		return smartlic.Errorf(smartlic.EInvalid, "TAG", "usage of %s not changed: the server refused it: %s (check the tag against the product's licenses: \"smartlic catalog product show PID\")", d.LicenseTag, d.Reason)
	}
	return smartlic.Errorf(smartlic.EInvalid, "TAG", "usage of %s dropped (it was %d): the server refused it: %s; the instance no longer reports it", d.LicenseTag, before, d.Reason)
}
