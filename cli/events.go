package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
)

// addEventCommands adds `smartlic events list|export|verify|head`.
func addEventCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	noun := &cobra.Command{
		Use:   "events",
		Short: "Read, export and verify the append-only event log",
	}
	noun.AddCommand(newEventsListCmd(f), newEventsExportCmd(f), newEventsVerifyCmd(f), newEventsHeadCmd(f))
	f.register(noun)
	root.AddCommand(noun)
}

// eventFlags are the filters list and export share.
type eventFlags struct {
	scope
	actor, typ, from, to string
	subject              string
	filterVA             string
}

func (ef *eventFlags) register(cmd *cobra.Command) {
	ef.registerAccount(cmd)
	cmd.Flags().StringVar(&ef.filterVA, "va", "", "only events of this Virtual Account (name or id)")
	cmd.Flags().StringVar(&ef.actor, "actor", "", "only events by this actor (e-mail or id)")
	cmd.Flags().StringVar(&ef.typ, "type", "", "only events of this type, or a prefix ending in '.' (token.)")
	cmd.Flags().StringVar(&ef.subject, "subject", "", "only events about this subject (an instance's id, say)")
	cmd.Flags().StringVar(&ef.from, "from", "", "only events at or after this time (YYYY-MM-DD or RFC 3339)")
	cmd.Flags().StringVar(&ef.to, "to", "", "only events before this time (YYYY-MM-DD or RFC 3339)")
}

func (ef *eventFlags) filter() (smartlic.EventFilter, error) {
	f := smartlic.EventFilter{VirtualAccountID: ef.filterVA, Actor: ef.actor, Type: ef.typ, Subject: ef.subject}
	for _, t := range []struct {
		flag, in string
		out      *time.Time
	}{{"--from", ef.from, &f.From}, {"--to", ef.to, &f.To}} {
		if t.in == "" {
			continue
		}
		v, err := parseDate(t.flag, t.in)
		if err != nil {
			return f, err
		}
		*t.out = *v
	}
	return f, nil
}

func newEventsListCmd(f *clientFlags) *cobra.Command {
	ef := &eventFlags{}
	var pf pageFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a Smart Account's events, oldest first (--account vendor for the vendor's log)",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := ef.filter()
			if err != nil {
				return err
			}
			sa, err := f.account(ef.account)
			if err != nil {
				return err
			}
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				items, next, err := fetch(ctx, cmd, &pf, func(ctx context.Context, pg smartlic.Page) ([]smartlic.Event, string, error) {
					return a.ListEvents(ctx, sa, filter, pg)
				})
				if err != nil {
					return err
				}
				return showList(f, p, items, next, eventTable)
			})
		},
	}
	ef.register(cmd)
	pf.register(cmd)
	return cmd
}

var eventTable = table[smartlic.Event]{
	header: []string{"SEQ", "AT", "TYPE", "ACTOR", "MESSAGE"},
	row: func(ev smartlic.Event) []string {
		actor := ev.ActorEmail
		if actor == "" {
			actor = ev.ActorID
		}
		return []string{fmtInt(ev.Seq), fmtTime(ev.At), ev.Type, actor, ev.Message}
	},
}

func newEventsExportCmd(f *clientFlags) *cobra.Command {
	ef := &eventFlags{}
	var format string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export a Smart Account's event log as CSV or JSON to stdout",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "csv" && format != "json" {
				return smartlic.Invalid("--format", "must be csv or json (got %q)", format)
			}
			filter, err := ef.filter()
			if err != nil {
				return err
			}
			sa, err := f.account(ef.account)
			if err != nil {
				return err
			}
			return f.run(cmd, func(ctx context.Context, a api, _ printer) error {
				b, err := a.ExportEvents(ctx, sa, filter, format)
				if err != nil {
					return err
				}
				_, err = f.e.stdout.Write(b)
				return err
			})
		},
	}
	ef.register(cmd)
	cmd.Flags().StringVar(&format, "format", "csv", "csv or json")
	return cmd
}

func newEventsVerifyCmd(f *clientFlags) *cobra.Command {
	var account, dsn, against string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove the event log untouched, or name the first altered, removed or reordered entry",
		Long: `Verify walks the hash chain of a Smart Account's event log (--account), or of
every chain. Through the API by default; with --db it opens the database
directly, so the check does not depend on a running server. Exits 0 when
every chain verifies and non-zero otherwise.

With --against FILE it also holds each chain to the signed heads that
` + "`smartlic events head`" + ` wrote to FILE earlier: a chain whose tail was rewritten
with recomputed hashes, cut short or deleted since then is reported.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if account == "" {
				account = f.e.getenv(envAccount)
			}
			var anchor *smartlic.Envelope
			if against != "" {
				env, err := readAnchor(against)
				if err != nil {
					return err
				}
				anchor = &env
			}
			if dsn != "" {
				verdicts, err := verifyDatabase(cmd.Context(), dsn, account, anchor)
				if err != nil {
					return err
				}
				return reportVerdicts(f, printer{w: f.e.stdout, json: f.output == "json"}, verdicts)
			}
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				var verdicts []smartlic.ChainVerdict
				var err error
				if anchor != nil {
					verdicts, err = a.VerifyEventsAgainst(ctx, account, *anchor)
				} else {
					verdicts, err = a.VerifyEvents(ctx, account)
				}
				if err != nil {
					return err
				}
				return reportVerdicts(f, p, verdicts)
			})
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "Smart Account id or domain, or vendor (env "+envAccount+"; default: every chain)")
	cmd.Flags().StringVar(&dsn, "db", "", "verify this database directly (SQLite path or postgres:// URL) instead of asking a server")
	cmd.Flags().StringVar(&against, "against", "", "also check the chains against signed heads saved by `smartlic events head`")
	return cmd
}

func newEventsHeadCmd(f *clientFlags) *cobra.Command {
	var account, out string
	cmd := &cobra.Command{
		Use:   "head",
		Short: "Save the signed head of each event chain, to verify against later",
		Long: `Head asks the server for the head (last sequence number, hash and time) of a
Smart Account's event chain (--account), or of every chain, signed with the
server's key. Keep the document where whoever can write the database cannot
(a ticket, a WORM bucket, another machine): ` + "`smartlic events verify --against FILE`" + `
then finds a tail rewritten with recomputed hashes, which the chain alone
cannot show. The server signs only chains that verify.

The document goes to stdout, or to --out FILE with the heads shown as a
table.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if account == "" {
				account = f.e.getenv(envAccount)
			}
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				env, err := a.EventHeads(ctx, account)
				if err != nil {
					return err
				}
				keys, err := a.PublicKeys(ctx)
				if err != nil {
					return err
				}
				var heads smartlic.EventHeads
				if err := sign.Open(env, smartlic.TypeEventHeads, sign.NewKeySet(keys.Keys), &heads); err != nil {
					return err
				}
				doc, err := json.MarshalIndent(env, "", "  ")
				if err != nil {
					return err
				}
				doc = append(doc, '\n')
				if out == "" {
					_, err = f.e.stdout.Write(doc)
					return err
				}
				if err := os.WriteFile(out, doc, 0o644); err != nil {
					return smartlic.Errorf(smartlic.EInvalid, "--out", "cannot write the signed heads: %v", err)
				}
				return printList(p, heads.Heads, "", headTable)
			})
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "Smart Account id or domain, or vendor (env "+envAccount+"; default: every chain)")
	cmd.Flags().StringVar(&out, "out", "", "write the signed document to this file and show the heads")
	return cmd
}

var headTable = table[smartlic.AnchoredHead]{
	header: []string{"CHAIN", "SEQ", "HASH", "AT"},
	row: func(h smartlic.AnchoredHead) []string {
		name := h.Account
		if name == "" {
			name = h.Chain
		}
		return []string{name, fmtInt(h.Seq), h.Hash, fmtTime(h.At)}
	},
}

// readAnchor reads a document `events head` saved. Its signature is
// checked by whoever verifies against it, with the server's keys.
func readAnchor(path string) (smartlic.Envelope, error) {
	var env smartlic.Envelope
	b, err := os.ReadFile(path)
	if err != nil {
		return env, smartlic.Errorf(smartlic.EInvalid, "--against", "cannot read the signed heads: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return env, smartlic.Errorf(smartlic.EInvalid, "--against", "%s is not a document saved by `smartlic events head`: %v", path, err)
	}
	return env, sign.CheckShape(env)
}

// verifyDatabase checks chains straight from the store, trusting nothing
// but the entries themselves (and, with an anchor, the keys that signed
// it).
func verifyDatabase(ctx context.Context, dsn, account string, anchor *smartlic.Envelope) ([]smartlic.ChainVerdict, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var verdicts []smartlic.ChainVerdict
	err = st.Read(ctx, func(tx smartlic.Tx) error {
		chain := account
		if chain != "" && chain != smartlic.VendorChain {
			sa, err := tx.GetSmartAccount(ctx, chain)
			if err != nil {
				return err
			}
			chain = sa.ID
		}
		var heads *smartlic.EventHeads
		if anchor != nil {
			keys, err := tx.ListSigningKeys(ctx)
			if err != nil {
				return err
			}
			heads = &smartlic.EventHeads{}
			if err := sign.Open(*anchor, smartlic.TypeEventHeads, sign.NewKeySet(keys), heads); err != nil {
				return err
			}
		}
		verdicts, err = manager.VerifyChains(ctx, tx, chain, heads)
		return err
	})
	return verdicts, err
}

// reportVerdicts prints the verdicts and fails when any chain is broken.
func reportVerdicts(f *clientFlags, p printer, verdicts []smartlic.ChainVerdict) error {
	if err := printList(p, verdicts, "", verdictTable); err != nil {
		return err
	}
	for _, v := range verdicts {
		if !v.OK {
			return smartlic.Errorf(smartlic.EConflict, "", "event log of %s is not intact: %s", v.Name(), v.Problem)
		}
	}
	if len(verdicts) == 0 {
		fmt.Fprintln(f.e.stderr, "no event chains found")
	}
	return nil
}

var verdictTable = table[smartlic.ChainVerdict]{
	header: []string{"CHAIN", "ENTRIES", "OK", "PROBLEM"},
	row: func(v smartlic.ChainVerdict) []string {
		return []string{v.Name(), fmtInt(v.Entries), yesNo(v.OK), v.Problem}
	},
}
