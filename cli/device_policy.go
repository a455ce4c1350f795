package cli

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// The device simulator under Smart Licensing Using Policy: the "license
// smart" commands of IOS-XE (trust idtoken, sync, save usage, import,
// and the move from registration).

func (f *deviceFlags) licenseCmd() *cobra.Command {
	smart := group("smart", "Smart Licensing Using Policy: trust, usage reports and their ACKs",
		f.trustCmd(), f.syncCmd(), f.saveCmd(), f.importCmd(), f.policyModeCmd(), f.reservationCmd())
	return group("license", "Licensing actions, as IOS-XE's license smart commands", smart)
}

func (f *deviceFlags) trustCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "trust idtoken TOKEN [force]",
		Short: "Establish trust online with a registration token (one use of it); the instance then reports usage",
		Long: `Establish trust with the manager under Smart Licensing Using Policy, as
"license smart trust idtoken TOKEN" does on IOS-XE: the manager answers a
trust code bound to this instance's key, consuming one use of the token. Force
replaces a trust the manager holds for this UDI with another key.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 || args[0] != "idtoken" || (len(args) == 3 && args[2] != "force") {
				return smartlic.Invalid("token", "usage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if err := a.EstablishTrust(cmd.Context(), args[1], len(args) == 3); err != nil {
				return f.reach(err)
			}
			return showAfter(p, a, writePolicySummary, "Trust Establishment: SUCCEEDED\n")
		},
	}
}

func (f *deviceFlags) syncCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Send every unacknowledged usage report to the manager and install its ACK",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			done, err := a.Sync(cmd.Context())
			if err != nil {
				return f.reach(err)
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, struct {
					Synced agent.Synced `json:"synced"`
					Status agent.Status `json:"status"`
				}{done, st})
			}
			fmt.Fprintf(p.w, "Usage report: SUCCEEDED (%d sent, %d acknowledged, %d rejected, %d pending)\n", done.Sent, done.Accepted, len(done.Rejected), done.Pending)
			writeRejected(p.w, done.Rejected)
			writePolicySummary(p.w, st)
			return nil
		},
	}
}

func (f *deviceFlags) saveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "save usage FILE",
		Short: "Save every unacknowledged usage report to FILE, to upload to the manager offline",
		Long: `Save every unacknowledged usage report to FILE, as "license smart save usage
unreported file FILE" does on IOS-XE. Upload it to the manager (smartlic usage
upload FILE, or the portal's Usage Data Files page) and import the ACK file
it answers. The reports stay pending until then.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 || args[0] != "usage" {
				return smartlic.Invalid("FILE", "usage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			uf, err := a.SaveUsage()
			if err != nil {
				return err
			}
			if err := writeFileOut("FILE", args[1], uf); err != nil {
				return err
			}
			if p.json {
				return writeJSON(p.w, a.Status())
			}
			fmt.Fprintf(p.w, "%s saved to %s\n", plural(len(uf.Reports), "usage report"), args[1])
			return nil
		},
	}
}

func (f *deviceFlags) importCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Import a trust file or an ACK file from the manager",
		Args:  args("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readFileArg("FILE", args[0])
			if err != nil {
				return err
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			imp, err := a.Import(data)
			if err != nil {
				return err
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, struct {
					Imported agent.Imported `json:"imported"`
					Status   agent.Status   `json:"status"`
				}{imp, st})
			}
			switch imp.Kind {
			case smartlic.FileTypeTrust:
				fmt.Fprintf(p.w, "Trust code installed (serial %s); the next usage report binds this instance's key\n", st.Policy.TrustSerial)
			default:
				fmt.Fprintf(p.w, "ACK installed: %s acknowledged, %d rejected, %d still pending\n", plural(imp.Accepted, "report"), len(imp.Rejected), st.Policy.PendingReports)
				writeRejected(p.w, imp.Rejected)
			}
			return nil
		},
	}
}

func (f *deviceFlags) policyModeCmd() *cobra.Command {
	return f.actionCmd("policy-mode", "Move a registered instance to Smart Licensing Using Policy (its trust comes from its registration)",
		(*agent.Agent).MoveToPolicy, writePolicySummary, "Migration to Smart Licensing Using Policy: SUCCEEDED; usage stays counted\n")
}

func writeRejected(w io.Writer, rs []smartlic.ReportRejection) {
	for _, r := range rs {
		fmt.Fprintf(w, "  report %s rejected: %s: %s\n", r.ReportID, r.Code, r.Message)
	}
}

// optTime is a time or <none>, as IOS-XE prints them.
func optTime(t *time.Time) string {
	if t == nil {
		return "<none>"
	}
	return iosTime(*t)
}

// trustLine is the Trust Code Installed line.
func trustLine(ps *agent.PolicyStatus) string {
	switch {
	case !ps.Trusted:
		return "<none>"
	case !ps.TrustBound:
		return "INSTALLED on " + optTime(ps.TrustInstalledAt) + " (offline trust code; the next report binds this instance's key)"
	}
	return "INSTALLED on " + optTime(ps.TrustInstalledAt)
}

// writePolicySummary is "show license summary" in policy mode.
func writePolicySummary(w io.Writer, st agent.Status) {
	ps := st.Policy
	fmt.Fprintf(w, "Smart Licensing Using Policy: ENABLED\n\nTrust Code Installed: %s\n", trustLine(ps))
	if ps.Trusted {
		fmt.Fprintf(w, "  Smart Account: %s\n  Virtual Account: %s\n", saName(ps.SmartAccountName, ps.SmartAccount), ps.VirtualAccount)
	}
	fmt.Fprintf(w, "\nUsage Reporting:\n  Last ACK received: %s\n  Next report due: %s\n  Unacknowledged reports: %d\n",
		optTime(ps.LastAckAt), nextDue(ps), ps.PendingReports)
	fmt.Fprintf(w, "\nLicense Usage:\n")
	if len(st.Licenses) == 0 {
		fmt.Fprintf(w, "  No licenses in use.\n")
		return
	}
	rows := make([][]string, 0, len(st.Licenses))
	for _, l := range st.Licenses {
		rows = append(rows, []string{"  " + l.Tag, fmt.Sprint(l.Count), "IN USE"})
	}
	_ = writeTable(w, []string{"  License", "Count", "Status"}, rows)
}

func saName(name, domain string) string {
	if name == "" {
		return domain
	}
	return name + " (" + domain + ")"
}

func nextDue(ps *agent.PolicyStatus) string {
	switch {
	case ps.UsageChanged || ps.PendingReports > 0:
		return "now (usage to report: smartlic device license smart sync, or save usage FILE)"
	case ps.NextReportDue != nil:
		return iosTime(*ps.NextReportDue)
	case ps.LastAckAt != nil:
		return "<none> (the policy asks for a report only after a change)"
	}
	return "<none>"
}

// writePolicyUsage is "show license usage" in policy mode, in IOS-XE's
// layout for Using Policy.
func writePolicyUsage(w io.Writer, st agent.Status, only string) {
	fmt.Fprintf(w, "License Authorization:\n  Status: Not Applicable\n")
	shown := false
	for _, l := range st.Licenses {
		if only != "" && l.Tag != only {
			continue
		}
		fmt.Fprintf(w, "\n%s (%s):\n  Description: %s\n  Count: %d\n  Version: 1.0\n  Status: IN USE\n", l.Tag, l.Tag, l.Tag, l.Count)
		fmt.Fprintf(w, "  Export status: NOT RESTRICTED\n  Feature Name: %s\n  Feature Description: %s\n  Enforcement type: NOT ENFORCED\n", l.Tag, l.Tag)
		shown = true
	}
	restricted := make([]string, 0, len(st.Policy.Restricted))
	for tag := range st.Policy.Restricted {
		restricted = append(restricted, tag)
	}
	sort.Strings(restricted)
	for _, tag := range restricted {
		if only != "" && tag != only {
			continue
		}
		export, enforce := "NOT RESTRICTED", "ENFORCED"
		if st.Policy.Restricted[tag] == smartlic.ClassExportControlled {
			export, enforce = "RESTRICTED - NOT ALLOWED", "EXPORT RESTRICTED"
		}
		fmt.Fprintf(w, "\n%s (%s):\n  Description: %s\n  Count: 0\n  Version: 1.0\n  Status: NOT AUTHORIZED (no authorization code installed)\n", tag, tag, tag)
		fmt.Fprintf(w, "  Export status: %s\n  Feature Name: %s\n  Feature Description: %s\n  Enforcement type: %s\n", export, tag, tag, enforce)
		shown = true
	}
	switch {
	case only != "" && !shown:
		fmt.Fprintf(w, "\n%s:\n  Count: 0 (not in use)\n", only)
	case !shown:
		fmt.Fprintf(w, "\nNo licenses in use.\n")
	}
}

// writePolicyStatus is "show license status" in policy mode, in IOS-XE's
// layout: policy, usage reporting, trust code.
func writePolicyStatus(w io.Writer, st agent.Status, server string) {
	ps := st.Policy
	fmt.Fprintf(w, "Utility:\n  Status: DISABLED\n\nSmart Licensing Using Policy:\n  Status: ENABLED\n")
	fmt.Fprintf(w, "\nTransport:\n  Type: Smart\n  URL: %s\n", server)
	fmt.Fprintf(w, "\nPolicy:\n")
	pol, source := smartlic.DefaultPolicy(), "default, until the first ACK"
	if ps.Policy != nil {
		pol, source = *ps.Policy, fmt.Sprintf("installed on %s", optTime(ps.LastAckAt))
	}
	fmt.Fprintf(w, "  Policy in use: %s\n  Policy name: %s (version %d)\n", source, pol.Name, pol.Version)
	ack := "no"
	for _, c := range smartlic.LicenseClasses {
		if pol.Rules.For(c).AckRequired {
			ack = "yes"
		}
	}
	fmt.Fprintf(w, "  Reporting ACK required: %s\n", ack)
	for _, c := range []struct {
		class smartlic.LicenseClass
		title string
	}{
		{smartlic.ClassUnenforcedPerpetual, "Unenforced/Non-Export Perpetual Attributes"},
		{smartlic.ClassUnenforcedSubscription, "Unenforced/Non-Export Subscription Attributes"},
		{smartlic.ClassEnforced, "Enforced (Perpetual/Subscription) License Attributes"},
		{smartlic.ClassExportControlled, "Export (Perpetual/Subscription) License Attributes"},
	} {
		r := pol.Rules.For(c.class)
		fmt.Fprintf(w, "  %s:\n    First report requirement (days): %d\n    Reporting frequency (days): %d\n    Report on change (days): %d\n",
			c.title, r.FirstReportDays, r.ReportingFrequencyDays, r.ReportAfterChangeDays)
	}
	fmt.Fprintf(w, "\nUsage Reporting:\n  Last ACK received: %s\n  Next report due: %s\n  Last report made: %s\n  Last report file write: %s\n  Unacknowledged reports: %d\n",
		optTime(ps.LastAckAt), nextDue(ps), optTime(ps.LastReportAt), optTime(ps.LastFileSaveAt), ps.PendingReports)
	if len(ps.Rejected) > 0 {
		fmt.Fprintf(w, "  Rejected in the last ACK:\n")
		for _, r := range ps.Rejected {
			fmt.Fprintf(w, "    %s: %s: %s\n", r.ReportID, r.Code, r.Message)
		}
	}
	fmt.Fprintf(w, "\nTrust Code Installed:\n")
	if !ps.Trusted {
		fmt.Fprintf(w, "  <none> (smartlic device license smart trust idtoken TOKEN, or import a trust file)\n")
	} else {
		fmt.Fprintf(w, "  Active: %s\n    %s\n    Serial: %s\n    Smart Account: %s\n    Virtual Account: %s\n",
			udiLine(st.UDI), trustLine(ps), ps.TrustSerial, saName(ps.SmartAccountName, ps.SmartAccount), ps.VirtualAccount)
	}
	writeKeysAndProduct(w, st, "pinned at the first exchange or trust file")
}

// restrictedFlags parses --enforced and --export-controlled of init.
func restrictedFlags(enforced, export []string) (map[string]smartlic.LicenseClass, error) {
	out := map[string]smartlic.LicenseClass{}
	for _, t := range enforced {
		out[strings.TrimSpace(t)] = smartlic.ClassEnforced
	}
	for _, t := range export {
		t = strings.TrimSpace(t)
		if slices.Contains(enforced, t) {
			return nil, smartlic.Invalid("--export-controlled", "%s is listed as enforced too", t)
		}
		out[t] = smartlic.ClassExportControlled
	}
	return out, nil
}

// usePolicy finishes "use" in policy mode: the change is recorded as a
// measurement; an instance whose trust is bound reports it at once, as a
// product does when its usage changes. Without a bound trust (offline) the
// change waits for save usage.
func (f *deviceFlags) usePolicy(cmd *cobra.Command, a *agent.Agent, p printer, tag string) error {
	var syncErr error
	if st := a.Status(); st.Policy.Trusted && st.Policy.TrustBound {
		_, syncErr = a.Sync(cmd.Context())
	}
	st := a.Status()
	if p.json {
		if err := writeJSON(p.w, st); err != nil {
			return err
		}
	} else {
		writePolicyUsage(p.w, st, tag)
	}
	if syncErr != nil {
		return fmt.Errorf("usage recorded, but reporting it failed (run \"smartlic device license smart sync\" to retry, or save usage FILE to report offline): %w", f.reach(syncErr))
	}
	return nil
}

// policyNotRenewed is what "renew" says to an instance under Using Policy:
// it holds no ID certificate or authorization to renew; what it sends the
// manager is its usage reports.
func policyNotRenewed() error {
	return smartlic.Errorf(smartlic.EConflict, "mode", "this instance runs under Smart Licensing Using Policy: it has no registration or authorization to renew; "+
		"send its usage reports and install the ACK with \"smartlic device license smart sync\" (air-gapped: \"license smart save usage FILE\", upload, then \"license smart import ACK-FILE\")")
}
