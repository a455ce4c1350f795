package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var alertTable = table[smartlic.Alert]{
	header: []string{"SEVERITY", "TYPE", "VIRTUAL ACCOUNT", "SUBJECT", "MESSAGE"},
	row: func(a smartlic.Alert) []string {
		subject := a.LicenseTag
		if a.UDI != "" {
			subject = a.UDI
		}
		return []string{string(a.Severity), string(a.Type), a.VirtualAccount, subject, a.Message}
	},
}

var prefTable = table[smartlic.NotificationPreference]{
	header: []string{"EMAIL", "FREQUENCY", "ALERT TYPES", "VIRTUAL ACCOUNTS", "LAST SENT"},
	row: func(p smartlic.NotificationPreference) []string {
		types := "all"
		if len(p.AlertTypes) > 0 {
			ss := make([]string, len(p.AlertTypes))
			for i, t := range p.AlertTypes {
				ss[i] = string(t)
			}
			types = strings.Join(ss, ",")
		}
		vas := "all"
		if len(p.VirtualAccounts) > 0 {
			vas = strings.Join(p.VirtualAccounts, ",")
		}
		return []string{p.Email, string(p.Frequency), types, vas, fmtTimePtr(p.LastSentAt)}
	},
}

var webhookTable = table[smartlic.Webhook]{
	header: []string{"URL", "DESCRIPTION", "ALERT TYPES", "CREATED", "ID"},
	row: func(w smartlic.Webhook) []string {
		types := "all"
		if len(w.AlertTypes) > 0 {
			ss := make([]string, len(w.AlertTypes))
			for i, t := range w.AlertTypes {
				ss[i] = string(t)
			}
			types = strings.Join(ss, ",")
		}
		return []string{w.URL, w.Description, types, fmtTime(w.CreatedAt), w.ID}
	},
}

var deliveryTable = table[smartlic.WebhookDelivery]{
	header: []string{"CREATED", "EVENT", "STATUS", "ATTEMPTS", "LAST STATUS", "LAST ERROR", "NEXT ATTEMPT", "ID"},
	row: func(d smartlic.WebhookDelivery) []string {
		code := ""
		if d.LastStatus != 0 {
			code = fmt.Sprint(d.LastStatus)
		}
		return []string{fmtTime(d.CreatedAt), d.Event, string(d.Status), fmt.Sprint(d.Attempts), code, d.LastError, fmtTimePtr(d.NextAttemptAt), d.ID}
	},
}

// addAlertCommands adds alert, notify and webhook.
func addAlertCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	for _, noun := range []*cobra.Command{newAlertCmd(f), newNotifyCmd(f), newWebhookCmd(f)} {
		f.register(noun)
		root.AddCommand(noun)
	}
}

// alerts runs fn with the client as an AlertService, in the --account.
func (f *clientFlags) alerts(cmd *cobra.Command, s *scope, fn func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error) error {
	return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
		return fn(ctx, a, sa, p)
	})
}

func newAlertCmd(f *clientFlags) *cobra.Command {
	var s scope
	list := &cobra.Command{
		Use:   "list [--va VA]",
		Short: "Show the current alerts, most severe first",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				got, err := a.ListAlerts(ctx, sa, s.va)
				if err != nil {
					return err
				}
				return printList(p, got, "", alertTable)
			})
		},
	}
	list.Flags().StringVar(&s.va, "va", "", "only this Virtual Account and its descendants")
	cmd := group("alert", "Show alerts: insufficient, expiring and expired licenses, instances failing to renew", list)
	s.registerAccount(cmd)
	return cmd
}

func newNotifyCmd(f *clientFlags) *cobra.Command {
	var s scope
	var (
		freq  string
		types []string
		vas   []string
	)
	set := &cobra.Command{
		Use:   "set EMAIL --frequency immediate|daily|weekly [--type TYPE]... [--va VA]...",
		Short: "Create or replace a recipient's notification preference",
		Args:  args("EMAIL"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			in := smartlic.NotificationPreferenceInput{Email: argv[0], Frequency: smartlic.Frequency(freq), VirtualAccounts: vas}
			var err error
			if in.AlertTypes, err = smartlic.ParseAlertTypes("--type", types); err != nil {
				return err
			}
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				got, err := a.SetNotificationPreference(ctx, sa, in)
				if err != nil {
					return err
				}
				return printOne(p, got, prefTable)
			})
		},
	}
	set.Flags().StringVar(&freq, "frequency", "daily", "immediate, daily or weekly")
	set.Flags().StringSliceVar(&types, "type", nil, "alert type to receive (repeatable; default: all)")
	set.Flags().StringSliceVar(&vas, "va", nil, "Virtual Account whose subtree to watch (repeatable; default: all)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the Smart Account's notification recipients",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				got, err := a.ListNotificationPreferences(ctx, sa)
				if err != nil {
					return err
				}
				return printList(p, got, "", prefTable)
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete EMAIL",
		Short: "Stop notifying a recipient",
		Args:  args("EMAIL"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				return a.DeleteNotificationPreference(ctx, sa, argv[0])
			})
		},
	}
	cmd := group("notify", "Manage who receives alert e-mails, for which alerts and how often", set, list, del)
	s.registerAccount(cmd)
	return cmd
}

func newWebhookCmd(f *clientFlags) *cobra.Command {
	var s scope
	var in smartlic.WebhookInput
	var types []string
	create := &cobra.Command{
		Use:   "create --url URL [--description TEXT] [--type TYPE]...",
		Short: "Create a webhook; its signing secret is shown only once",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if in.AlertTypes, err = smartlic.ParseAlertTypes("--type", types); err != nil {
				return err
			}
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				got, err := a.CreateWebhook(ctx, sa, in)
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, got)
				}
				if err := printOne(p, got, webhookTable); err != nil {
					return err
				}
				fmt.Fprintf(p.w, "\nsecret: %s\n(shown only now: verify the %s header of each delivery with it)\n", got.Secret, "Smartlic-Signature")
				return nil
			})
		},
	}
	create.Flags().StringVar(&in.URL, "url", "", "endpoint to POST deliveries to")
	create.Flags().StringVar(&in.Description, "description", "", "what the endpoint is")
	create.Flags().StringSliceVar(&types, "type", nil, "alert type to deliver (repeatable; default: all)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the Smart Account's webhooks",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				got, err := a.ListWebhooks(ctx, sa)
				if err != nil {
					return err
				}
				return printList(p, got, "", webhookTable)
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a webhook and its delivery log",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				return a.DeleteWebhook(ctx, sa, argv[0])
			})
		},
	}
	var pf pageFlags
	deliveries := &cobra.Command{
		Use:   "deliveries ID",
		Short: "Show a webhook's delivery log, newest first",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.alerts(cmd, &s, func(ctx context.Context, a smartlic.AlertService, sa string, p printer) error {
				items, next, err := fetch(ctx, cmd, &pf, func(ctx context.Context, pg smartlic.Page) ([]smartlic.WebhookDelivery, string, error) {
					return a.ListWebhookDeliveries(ctx, sa, argv[0], pg)
				})
				if err != nil {
					return err
				}
				return showList(f, p, items, next, deliveryTable)
			})
		},
	}
	pf.register(deliveries)
	cmd := group("webhook", "Manage signed webhooks that receive new alerts", create, list, del, deliveries)
	s.registerAccount(cmd)
	return cmd
}
