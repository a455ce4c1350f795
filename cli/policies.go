package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// policyTable lists policies, one row each.
var policyTable = table[smartlic.Policy]{
	header: []string{"SCOPE", "VIRTUAL ACCOUNT", "NAME", "VERSION", "SET", "BY"},
	row: func(p smartlic.Policy) []string {
		name := p.Name
		if p.Deleted {
			name += " (deleted)"
		}
		return []string{human(p.Scope), p.VirtualAccount, name, strconv.Itoa(p.Version), fmtTime(p.CreatedAt), p.CreatedBy}
	},
}

// policyVersionTable lists the versions of one policy.
var policyVersionTable = table[smartlic.Policy]{
	header: []string{"VERSION", "NAME", "SET", "BY"},
	row: func(p smartlic.Policy) []string {
		name := p.Name
		if p.Deleted {
			name += " (deleted)"
		}
		return []string{strconv.Itoa(p.Version), name, fmtTime(p.CreatedAt), p.CreatedBy}
	},
}

// policyRuleFlags maps a rule's API field to the flag of policy set that
// sets it, so that an error names the flag typed.
var policyRuleFlags = map[string]string{
	"first_report_days":        "first-report",
	"reporting_frequency_days": "frequency",
	"report_after_change_days": "after-change",
	"ack_required":             "ack-required",
}

// ruleRow is one class of a policy as a table row.
type ruleRow struct {
	class smartlic.LicenseClass
	rule  smartlic.ReportingRule
}

var ruleTable = table[ruleRow]{
	header: []string{"CLASS", "FIRST REPORT", "FREQUENCY", "AFTER CHANGE", "ACK REQUIRED"},
	row: func(r ruleRow) []string {
		return []string{human(r.class), days(r.rule.FirstReportDays), days(r.rule.ReportingFrequencyDays), days(r.rule.ReportAfterChangeDays), yesNo(r.rule.AckRequired)}
	},
}

// days shows a policy's day count; 0 is "no such requirement".
func days(n int) string {
	if n == 0 {
		return "none"
	}
	return strconv.Itoa(n) + " days"
}

// printPolicy shows a policy: a line saying which and where, then its
// rules; in JSON, v (the policy, or the policy in force with its origin).
func printPolicy(p printer, pol smartlic.Policy, where string, v any) error {
	if p.json {
		return writeJSON(p.w, v)
	}
	fmt.Fprintf(p.w, "Policy %q, version %d%s\n\n", pol.Name, pol.Version, where)
	rows := make([]ruleRow, 0, len(smartlic.LicenseClasses))
	for _, c := range smartlic.LicenseClasses {
		rows = append(rows, ruleRow{c, pol.Rules.For(c)})
	}
	return printList(p, rows, "", ruleTable)
}

// policyScope is where a policy command acts: the Smart Account (no --va),
// one VA, or with --default the vendor default.
type policyScope struct {
	scope
	def bool
}

func (s *policyScope) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&s.va, "va", "", "the Virtual Account's policy (id or name); without it, the Smart Account's")
	cmd.Flags().BoolVar(&s.def, "default", false, what+" the vendor's default policy (the operator edits it)")
}

func (s *policyScope) check() error {
	if s.def && s.va != "" {
		return smartlic.Invalid("--default", "cannot be combined with --va")
	}
	return nil
}

// addPolicyCommands adds "policy".
func addPolicyCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	var s policyScope
	cmd := group("policy", "Show and edit Smart Licensing Using Policy reporting policies",
		newPolicyListCmd(f, &s), newPolicyShowCmd(f, &s), newPolicySetCmd(f, &s), newPolicyDeleteCmd(f, &s), newPolicyHistoryCmd(f, &s))
	s.registerAccount(cmd)
	f.register(cmd)
	root.AddCommand(cmd)
}

// inAccount runs fn with the --account resolved, unless --default is
// given (the default belongs to no account).
func (f *clientFlags) policyRun(cmd *cobra.Command, s *policyScope, fn func(ctx context.Context, a api, sa string, p printer) error) error {
	if err := s.check(); err != nil {
		return err
	}
	return f.run(cmd, func(ctx context.Context, a api, p printer) error {
		sa := ""
		if !s.def {
			var err error
			if sa, err = f.account(s.account); err != nil {
				return err
			}
		}
		return fn(ctx, a, sa, p)
	})
}

func newPolicyListCmd(f *clientFlags, s *policyScope) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the default in force and the Smart Account's custom policies",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.policyRun(cmd, s, func(ctx context.Context, a api, sa string, p printer) error {
				got, err := a.ListPolicies(ctx, sa)
				if err != nil {
					return err
				}
				return printList(p, got, "", policyTable)
			})
		},
	}
}

func newPolicyShowCmd(f *clientFlags, s *policyScope) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show [--va VA | --default]",
		Short: "Show the policy in force for a Virtual Account (or the Smart Account, or the default) and where it is set",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.policyRun(cmd, s, func(ctx context.Context, a api, sa string, p printer) error {
				switch {
				case s.def:
					d, err := a.GetDefaultPolicy(ctx)
					if err != nil {
						return err
					}
					return printPolicy(p, d, ", the vendor default", d)
				case s.va != "":
					in, err := a.EffectivePolicy(ctx, sa, s.va)
					if err != nil {
						return err
					}
					return printPolicy(p, in.Policy, inForceWhere(in), in)
				}
				pol, err := a.GetPolicy(ctx, sa, "")
				if smartlic.ErrorCode(err) == smartlic.ENotFound {
					d, err := a.GetDefaultPolicy(ctx)
					if err != nil {
						return err
					}
					return printPolicy(p, d, ", the vendor default (the Smart Account has no policy of its own)", d)
				}
				if err != nil {
					return err
				}
				return printPolicy(p, pol, ", set on the Smart Account", pol)
			})
		},
	}
	s.register(cmd, "show")
	return cmd
}

// inForceWhere says where the policy in force for a VA is set.
func inForceWhere(in smartlic.PolicyInForce) string {
	switch {
	case !in.Inherited:
		return fmt.Sprintf(", set on %s", in.VirtualAccount)
	case in.Policy.Scope == smartlic.ScopeVirtualAccount:
		return fmt.Sprintf(", in force for %s, inherited from %s", in.VirtualAccount, in.Policy.VirtualAccount)
	case in.Policy.Scope == smartlic.ScopeSmartAccount:
		return fmt.Sprintf(", in force for %s, the Smart Account's", in.VirtualAccount)
	}
	return fmt.Sprintf(", in force for %s, the vendor default", in.VirtualAccount)
}

func newPolicySetCmd(f *clientFlags, s *policyScope) *cobra.Command {
	var (
		name                                string
		class                               string
		first, frequency, afterChange       int
		ack                                 bool
		firstSet, freqSet, afterSet, ackSet bool
	)
	cmd := &cobra.Command{
		Use:   "set [--va VA | --default] [--name NAME] [--class CLASS --first-report DAYS --frequency DAYS --after-change DAYS --ack-required[=false]]",
		Short: "Set a custom policy (a new version), starting from the policy in force there and changing what the flags say",
		Long: "Set the Smart Account's policy (or with --va a Virtual Account's, or with --default the vendor default).\n" +
			"The edit starts from the policy in force there and changes the rule of one --class:\n" +
			"unenforced_perpetual, unenforced_subscription, enforced or export_controlled.\n" +
			"Day counts are 0 to 3650; 0 means no such requirement.",
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			firstSet, freqSet, afterSet, ackSet = fl.Changed("first-report"), fl.Changed("frequency"), fl.Changed("after-change"), fl.Changed("ack-required")
			var c smartlic.LicenseClass
			if class != "" {
				var err error
				if c, err = smartlic.ParseLicenseClass("--class", class); err != nil {
					return err
				}
			} else if firstSet || freqSet || afterSet || ackSet {
				return smartlic.Invalid("--class", "is required with --first-report, --frequency, --after-change or --ack-required")
			}
			if !fl.Changed("name") && class == "" {
				return smartlic.Invalid("--class", "say what to change: --class with its rules, or --name")
			}
			return f.policyRun(cmd, s, func(ctx context.Context, a api, sa string, p printer) error {
				base, in, err := policyStart(ctx, a, sa, s)
				if err != nil {
					return err
				}
				if fl.Changed("name") {
					in.Name = name
				}
				if c != "" {
					r := base.Rules.For(c)
					if firstSet {
						r.FirstReportDays = first
					}
					if freqSet {
						r.ReportingFrequencyDays = frequency
					}
					if afterSet {
						r.ReportAfterChangeDays = afterChange
					}
					if ackSet {
						r.AckRequired = ack
					}
					if err := in.Rules.Set(c, r); err != nil {
						return err
					}
				}
				var got smartlic.Policy
				if s.def {
					got, err = a.SetDefaultPolicy(ctx, in)
				} else {
					got, err = a.SetPolicy(ctx, sa, s.va, in)
				}
				if err != nil {
					return err
				}
				return printPolicy(p, got, ", stored", got)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "the policy's name (default: the current one, or one made from the scope)")
	fl.StringVar(&class, "class", "", "license class whose rule to change")
	fl.IntVar(&first, "first-report", 0, "days after first use by which the first report is due (0: none)")
	fl.IntVar(&frequency, "frequency", 0, "days between periodic reports (0: none)")
	fl.IntVar(&afterChange, "after-change", 0, "days after a usage change by which it must be reported (0: none)")
	fl.BoolVar(&ack, "ack-required", false, "a report counts only once acknowledged (--ack-required=false to drop)")
	s.register(cmd, "edit")
	return cmd
}

// policyStart reads what an edit starts from: the custom policy at the
// scope (whose version the edit is based on, so a concurrent edit is not
// overwritten), else the policy in force there.
func policyStart(ctx context.Context, a api, sa string, s *policyScope) (smartlic.Policy, smartlic.PolicyInput, error) {
	var (
		cur smartlic.Policy
		err error
	)
	if s.def {
		cur, err = a.GetDefaultPolicy(ctx)
		if err != nil {
			return cur, smartlic.PolicyInput{}, err
		}
		in := smartlic.PolicyInput{Name: cur.Name, Rules: cur.Rules}
		if cur.Version > 1 {
			in.BaseVersion = cur.Version
		}
		return cur, in, nil
	}
	cur, err = a.GetPolicy(ctx, sa, s.va)
	if err == nil {
		return cur, smartlic.PolicyInput{Name: cur.Name, Rules: cur.Rules, BaseVersion: cur.Version}, nil
	}
	if smartlic.ErrorCode(err) != smartlic.ENotFound {
		return cur, smartlic.PolicyInput{}, err
	}
	// Nothing set here yet: start from what is in force.
	name := "Smart Account policy"
	if s.va != "" {
		in, err := a.EffectivePolicy(ctx, sa, s.va)
		if err != nil {
			return cur, smartlic.PolicyInput{}, err
		}
		cur, name = in.Policy, in.VirtualAccount+" policy"
	} else if cur, err = a.GetDefaultPolicy(ctx); err != nil {
		return cur, smartlic.PolicyInput{}, err
	}
	return cur, smartlic.PolicyInput{Name: name, Rules: cur.Rules}, nil
}

func newPolicyDeleteCmd(f *clientFlags, s *policyScope) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete [--va VA | --default]",
		Short: "Remove a custom policy (what it covered inherits again), or with --default reset the default to the built-in",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.policyRun(cmd, s, func(ctx context.Context, a api, sa string, p printer) error {
				if s.def {
					got, err := a.ResetDefaultPolicy(ctx)
					if err != nil {
						return err
					}
					return printPolicy(p, got, ", the built-in default again", got)
				}
				if err := a.DeletePolicy(ctx, sa, s.va); err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, map[string]bool{"deleted": true})
				}
				where := "the Smart Account"
				if s.va != "" {
					where = s.va
				}
				_, err := fmt.Fprintf(p.w, "Deleted the policy of %s; the policy above it applies.\n", where)
				return err
			})
		},
	}
	s.register(cmd, "reset")
	return cmd
}

func newPolicyHistoryCmd(f *clientFlags, s *policyScope) *cobra.Command {
	var pf pageFlags
	cmd := &cobra.Command{
		Use:   "history [--va VA | --default]",
		Short: "List every version of a policy, newest first",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.policyRun(cmd, s, func(ctx context.Context, a api, sa string, p printer) error {
				items, next, err := fetch(ctx, cmd, &pf, func(ctx context.Context, pg smartlic.Page) ([]smartlic.Policy, string, error) {
					if s.def {
						return a.DefaultPolicyHistory(ctx, pg)
					}
					return a.PolicyHistory(ctx, sa, s.va, pg)
				})
				if err != nil {
					return err
				}
				return showList(f, p, items, next, policyVersionTable)
			})
		},
	}
	pf.register(cmd)
	s.register(cmd, "list")
	return cmd
}

// reportingTable shows an instance's reporting state under Using Policy.
var reportingTable = table[smartlic.PolicyReporting]{
	header: []string{"POLICY", "LAST REPORT", "LAST ACK", "NEXT REPORT DUE", "STATE"},
	row: func(r smartlic.PolicyReporting) []string {
		state := "on time"
		switch {
		case r.Overdue:
			state = "OVERDUE"
		case r.Due == nil:
			state = "nothing due"
		}
		return []string{fmt.Sprintf("%s (v%d)", r.PolicyName, r.PolicyVersion), fmtTimePtr(r.LastReportAt), fmtTimePtr(r.LastAckAt), fmtDate(r.Due), state}
	},
}

// printReporting shows the reporting state of a policy-mode instance (in a
// table; JSON output carries it inside the instance).
func printReporting(p printer, r *smartlic.PolicyReporting) error {
	if r == nil || p.json {
		return nil
	}
	fmt.Fprintln(p.w)
	if err := printOne(p, *r, reportingTable); err != nil {
		return err
	}
	if r.Message != "" {
		_, err := fmt.Fprintf(p.w, "\n%s\n", r.Message)
		return err
	}
	return nil
}
