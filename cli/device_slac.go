package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// Export control and enforcement on the simulated product.

func (f *deviceFlags) slacCmd() *cobra.Command {
	var offlineRequest, offlineReturn bool
	request := &cobra.Command{
		Use:   "request TAG [--offline]",
		Short: "Ask the manager for a SLAC for an export-controlled license (online: registered; --offline: print a request code)",
		Long: `Ask for a Smart License Authorization Code for an export-controlled license.
Online, the registered instance asks the manager and installs the answer.
With --offline it prints a request code instead: enter it in the license
manager (smartlic slac issue --request CODE, or the portal's SLAC page),
then install the authorization code it gives with "smartlic device slac
install CODE". A new request of a license replaces the older one, whose
authorization code is then refused.`,
		Args: args("TAG"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if offlineRequest {
				code, err := a.RequestSLACCode(argv[0])
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, map[string]string{"request_code": code})
				}
				_, err = fmt.Fprintf(p.w, "Enter this SLAC request code in the license manager (smartlic slac issue --request CODE):\n%s\n", code)
				return err
			}
			if err := a.RequestSLAC(cmd.Context(), argv[0]); err != nil {
				return f.reach(err)
			}
			return showAfter(p, a, writeSummary, "SLAC for %s: INSTALLED\n\n", argv[0])
		},
	}
	request.Flags().BoolVar(&offlineRequest, "offline", false, "print a request code to enter in the license manager instead of asking it")
	var keysFile string
	install := &cobra.Command{
		Use:   "install CODE [--keys FILE]",
		Short: "Install a SLAC authorization code from the license manager (answers this device's last offline request)",
		Long: `Install a SLAC authorization code from the license manager: it answers this
device's last offline request (slac request TAG --offline). The code is
verified with the manager's public keys. A device that never registered nor
enabled reservation trusts none yet: --keys FILE gives them, FILE being the
manager's GET /device/v1/keys answer saved where the manager is reachable
(the same file as "reservation enable --keys"). The code must verify with a
key of FILE; then the device trusts those keys from then on. A code that
does not is refused and changes nothing.`,
		Args: args("CODE"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			keys, err := readManagerKeys(keysFile)
			if err != nil {
				return err
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			doc, err := a.InstallSLACWith(argv[0], agent.SLACInstallOptions{Keys: keys})
			if err != nil {
				return err
			}
			return showAfter(p, a, writeSummary, "SLAC for %s: INSTALLED (SLAC %s)\n\n", doc.LicenseTag, doc.ID)
		},
	}
	install.Flags().StringVar(&keysFile, "keys", "", "file with the manager's keys (the JSON of GET /device/v1/keys), for a device that trusts none yet")
	ret := &cobra.Command{
		Use:   "return TAG [--offline]",
		Short: "Return the SLAC of a license; its license goes back to the pool (--offline: print a return code)",
		Args:  args("TAG"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if offlineReturn {
				code, err := a.ReturnSLACCode(argv[0])
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, map[string]string{"return_code": code})
				}
				_, err = fmt.Fprintf(p.w, "SLAC removed. Enter this return code in the license manager (smartlic slac return --code CODE):\n%s\n", code)
				return err
			}
			verdict := "RETURNED"
			if err := a.ReturnSLAC(cmd.Context(), argv[0]); err != nil {
				if smartlic.ErrorCode(err) != smartlic.ESLACClosed {
					return f.reach(err)
				}
				// An administrator cancelled it: the license is back in the
				// pool already. The device learns of a cancel from an
				// authorization, so ask for one now and let it remove the SLAC.
				if aerr := a.Authorize(cmd.Context()); aerr != nil || slacInstalled(a.Status(), argv[0]) {
					return fmt.Errorf("%w; the device removes the SLAC when an authorization tells it of the cancel: run \"smartlic device renew --auth\" (or, offline, \"slac return %s --offline\" and discard the return code)%s",
						err, argv[0], authNote(aerr))
				}
				verdict = "CANCELLED by an administrator; the device learned it from a fresh authorization and removed it"
			}
			return showAfter(p, a, writeSummary, "SLAC for %s: %s\n\n", argv[0], verdict)
		},
	}
	ret.Flags().BoolVar(&offlineReturn, "offline", false, "remove the SLAC here and print a return code to enter in the license manager")
	cmd := group("slac", "Smart License Authorization Codes: what export-controlled licenses need before use", request, install, ret)
	return cmd
}

func (f *deviceFlags) throughputCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "throughput MBPS",
		Short: "Set the product's throughput; above 250 Mbps it is export-controlled and needs a SLAC",
		Args:  args("MBPS"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			mbps, err := strconv.ParseInt(argv[0], 10, 64)
			if err != nil {
				return smartlic.Invalid("MBPS", "must be a whole number of Mbps (got %q)", argv[0])
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if err := a.SetThroughput(mbps); err != nil {
				return err
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, st)
			}
			fmt.Fprintf(p.w, "Throughput: %d Mbps\n", st.Product.ThroughputMbps)
			return nil
		},
	}
}

func (f *deviceFlags) configureCmd() *cobra.Command {
	var (
		licenses   []string
		soft       bool
		throughput string
	)
	cmd := &cobra.Command{
		Use:   "configure [--license TAG=CLASS]... [--soft-enforcement] [--throughput-license TAG]",
		Short: "Describe how the product enforces its licenses (unenforced, enforced, export_controlled)",
		Long: `Describe the simulated product's licenses as a product developer would: each
license's class (unenforced: used freely and reported; enforced: needs an
authorization first; export_controlled: needs a SLAC), whether the product
applies soft enforcement (no new usage while licenses are insufficient), and
which export-controlled license unlocks throughput above 250 Mbps. The whole
configuration is replaced.`,
		Example: "  smartlic device configure --license hseck9=export_controlled --license dna-advantage=enforced --soft-enforcement --throughput-license hseck9",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := agent.ProductConfig{Licenses: map[string]smartlic.Enforcement{}, SoftEnforcement: soft, ThroughputLicense: throughput}
			for _, l := range licenses {
				tag, class, ok := strings.Cut(l, "=")
				if !ok {
					return smartlic.Invalid("--license", "must be TAG=CLASS, e.g. hseck9=export_controlled (got %q)", l)
				}
				c.Licenses[tag] = smartlic.Enforcement(class)
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if err := a.ConfigureProduct(c); err != nil {
				return err
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, st.Product)
			}
			writeProduct(p.w, st)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&licenses, "license", nil, "a license and its class, TAG=unenforced|enforced|export_controlled (repeat)")
	cmd.Flags().BoolVar(&soft, "soft-enforcement", false, "refuse new usage while licenses are insufficient")
	cmd.Flags().StringVar(&throughput, "throughput-license", "", "the export-controlled license whose SLAC unlocks more than 250 Mbps")
	return cmd
}

// enforcementLabel is a license's class as the summary prints it.
func enforcementLabel(e smartlic.Enforcement) string {
	return strings.ToUpper(strings.ReplaceAll(string(e), "_", "-"))
}

// writeProduct is the enforcement part of the summary.
func writeProduct(w io.Writer, st agent.Status) {
	pc := st.Product
	fmt.Fprintf(w, "Enforcement:\n")
	if len(pc.Licenses) > 0 {
		tags := make([]string, 0, len(pc.Licenses))
		for t := range pc.Licenses {
			tags = append(tags, t)
		}
		sort.Strings(tags)
		for _, t := range tags {
			fmt.Fprintf(w, "  %s: %s\n", t, enforcementLabel(pc.Licenses[t]))
		}
	} else {
		fmt.Fprintf(w, "  every license unenforced (smartlic device configure)\n")
	}
	soft := "OFF"
	if pc.SoftEnforcement {
		soft = "ON"
	}
	fmt.Fprintf(w, "  Soft Enforcement: %s\n", soft)
	if len(st.Insufficient) > 0 {
		fmt.Fprintf(w, "  Licenses Insufficient: %s\n", strings.Join(st.Insufficient, ", "))
	}
	if pc.ThroughputMbps > 0 {
		fmt.Fprintf(w, "  Throughput: %d Mbps\n", pc.ThroughputMbps)
	}
	if rb := st.ClockRollback; rb != nil {
		fmt.Fprintf(w, "  CLOCK ROLLBACK: the clock (%s) is behind the last time seen (%s); timers keep that time\n", iosTime(rb.Clock), iosTime(rb.Checkpoint))
	}
	if len(st.SLACs) > 0 || len(st.PendingSLACs) > 0 || len(st.SLACReturns) > 0 || len(st.CancelledSLACs) > 0 {
		fmt.Fprintf(w, "\nExport Authorization (SLAC):\n")
		for _, s := range st.SLACs {
			fmt.Fprintf(w, "  %s: INSTALLED on %s (SLAC %s, %s / %s)\n", s.LicenseTag, iosTime(s.IssuedAt), s.ID, s.SmartAccount, s.VirtualAccount)
		}
		for _, t := range st.PendingSLACs {
			fmt.Fprintf(w, "  %s: REQUESTED, waiting for the authorization code\n", t)
		}
		for _, r := range st.SLACReturns {
			fmt.Fprintf(w, "  %s: RETURNED on %s (SLAC %s); return code for the license manager:\n    %s\n", r.LicenseTag, iosTime(r.ReturnedAt), r.SLACID, r.Code)
		}
		for _, c := range st.CancelledSLACs {
			fmt.Fprintf(w, "  %s: CANCELLED by an administrator of the license manager (SLAC %s, learned %s); request a new SLAC to use it again\n", c.LicenseTag, c.SLACID, iosTime(c.LearnedAt))
		}
	}
}

// slacInstalled reports whether a SLAC of tag is installed.
func slacInstalled(st agent.Status, tag string) bool {
	for _, s := range st.SLACs {
		if s.LicenseTag == tag {
			return true
		}
	}
	return false
}

// authNote says why the authorization that should have told the device
// of a cancel failed, if it did.
func authNote(err error) string {
	if err == nil {
		return ""
	}
	return " (the authorization just tried failed: " + err.Error() + ")"
}
