package cli

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// maxClockOffset bounds --clock-offset: ten years either way covers every
// deadline a policy, a token or a certificate sets.
const maxClockOffset = 3650 * smartlic.Day

// clockOffset is the value of --clock-offset: a duration in days ("400d")
// or in Go's units ("36h", "90m"), either way.
type clockOffset time.Duration

func (o *clockOffset) String() string {
	if *o == 0 {
		return "0"
	}
	return time.Duration(*o).String()
}

func (o *clockOffset) Type() string { return "duration" }

func (o *clockOffset) Set(s string) error {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return smartlic.Invalid("--clock-offset", "must be whole days such as 400d, or a duration such as 36h (got %q)", s)
		}
		// Bounded in days before it is multiplied, which could overflow.
		if limit := int64(maxClockOffset / smartlic.Day); n > limit || n < -limit {
			return smartlic.Invalid("--clock-offset", "must be within ten years either way (got %q)", s)
		}
		d = time.Duration(n) * smartlic.Day
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return smartlic.Invalid("--clock-offset", "must be whole days such as 400d, or a duration such as 36h (got %q)", s)
		}
	}
	if d > maxClockOffset || d < -maxClockOffset {
		return smartlic.Invalid("--clock-offset", "must be within ten years either way (got %q)", s)
	}
	*o = clockOffset(d)
	return nil
}

// clock is the system clock, moved by the offset when one is given.
func (o clockOffset) clock() smartlic.Clock {
	if o == 0 {
		return smartlic.SystemClock{}
	}
	return smartlic.OffsetClock{Offset: time.Duration(o)}
}

// register adds --clock-offset to cmd's flags (persistent: a device's
// subcommands all take it).
func (o *clockOffset) register(cmd *cobra.Command, persistent bool, who string) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.Var(o, "clock-offset", "move "+who+"'s clock by this much (400d, 36h; negative goes back): for demos and trials, to see deadlines pass without waiting; never in production")
}
