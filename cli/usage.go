package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

// Smart Licensing Using Policy, the account's side: offline usage files
// (upload, list, download the ACK again) and offline trust files.

var usageUploadTable = table[smartlic.UsageUpload]{
	header: []string{"FILE", "UPLOADED", "BY", "REPORTS", "ACCEPTED", "REJECTED", "ID"},
	row: func(u smartlic.UsageUpload) []string {
		return []string{u.FileName, fmtTime(u.UploadedAt), u.UploadedBy, strconv.Itoa(u.Summary.Reports), strconv.Itoa(u.Summary.Accepted), strconv.Itoa(u.Summary.Rejected), u.ID}
	},
}

// addUsageCommands adds "usage" and "trust".
func addUsageCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	for _, noun := range []*cobra.Command{newUsageCmd(f), newTrustCmd(f)} {
		f.register(noun)
		root.AddCommand(noun)
	}
}

func newUsageCmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("usage", "Upload offline usage files (RUM reports) and download their ACK files",
		newUsageUploadCmd(f, &s),
		newListInCmd(f, &s, "List the usage files uploaded to a Smart Account", usageUploadTable,
			func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.UsageUpload, string, error) {
				return a.ListUsageUploads(ctx, sa, p)
			}),
		newUsageAckCmd(f, &s),
	)
	cmd.Long = `Products under Smart Licensing Using Policy that cannot reach the manager save
their unacknowledged usage reports to a file ("smartlic device license smart
save usage FILE"). Upload it here; the answer is the ACK file the products
import ("smartlic device license smart import FILE"). Good reports are
accepted, each bad one is listed with its reason, and uploading the same file
again changes nothing.`
	s.registerAccount(cmd)
	return cmd
}

// maxFileRead bounds what the CLI reads of a file it sends: a little more
// than the server accepts, so an oversized file gets the server's answer.
const maxFileRead = smartlic.MaxUsageFileBytes + 1

func readFileArg(field, name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, smartlic.Invalid(field, "cannot read %s: %v", name, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFileRead))
	if err != nil {
		return nil, smartlic.Invalid(field, "cannot read %s: %v", name, err)
	}
	if len(b) > smartlic.MaxUsageFileBytes {
		return nil, smartlic.Errorf(smartlic.ETooLarge, field, "%s is larger than %d bytes", name, smartlic.MaxUsageFileBytes)
	}
	return b, nil
}

// writeFileOut writes v as indented JSON to name (0600: files of this
// kind are not secret, but they are nobody else's business either).
func writeFileOut(field, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return smartlic.Internal(err, "encoding the file")
	}
	if err := os.WriteFile(name, append(b, '\n'), 0o600); err != nil {
		return smartlic.Invalid(field, "cannot write %s: %v", name, err)
	}
	return nil
}

func newUsageUploadCmd(f *clientFlags, s *scope) *cobra.Command {
	var ackOut string
	cmd := &cobra.Command{
		Use:   "upload FILE [--ack ACK-FILE]",
		Short: "Upload an offline usage file; write the ACK file for the products",
		Long: `Upload an offline usage file to the Smart Account and write the ACK file the
products import (--ack, default FILE with .ack.json). The summary lists every
report that was not accepted, with its reason.`,
		Example: "  smartlic usage upload site-usage.json --ack site-ack.json",
		Args:    args("FILE"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			data, err := readFileArg("FILE", argv[0])
			if err != nil {
				return err
			}
			if ackOut == "" {
				ackOut = strings.TrimSuffix(argv[0], filepath.Ext(argv[0])) + ".ack.json"
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				ack, err := a.UploadUsageFile(ctx, sa, filepath.Base(argv[0]), data)
				if err != nil {
					return err
				}
				if err := writeFileOut("--ack", ackOut, ack); err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, ack)
				}
				writeAckSummary(p.w, ack)
				fmt.Fprintf(p.w, "ACK file written to %s: import it on the products (smartlic device license smart import %s)\n", ackOut, ackOut)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&ackOut, "ack", "", "where to write the ACK file (default FILE.ack.json)")
	return cmd
}

func newUsageAckCmd(f *clientFlags, s *scope) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "ack UPLOAD-ID [--file ACK-FILE]",
		Short: "Download the ACK file of an earlier upload again",
		Args:  args("UPLOAD-ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				ack, err := a.GetUsageUploadAck(ctx, sa, argv[0])
				if err != nil {
					return err
				}
				if out != "" {
					if err := writeFileOut("--file", out, ack); err != nil {
						return err
					}
				}
				if p.json && out == "" {
					return writeJSON(p.w, ack)
				}
				writeAckSummary(p.w, ack)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "file", "", "write the ACK file here")
	return cmd
}

// writeAckSummary is the human answer to an upload.
func writeAckSummary(w io.Writer, ack smartlic.AckFile) {
	s := ack.Summary
	fmt.Fprintf(w, "Upload %s to %s: %s from %s, %d accepted (%d already known), %d rejected\n",
		ack.UploadID, ack.SmartAccount, plural(s.Reports, "report"), plural(s.Instances, "instance"), s.Accepted, s.Duplicates, s.Rejected)
	if len(ack.Rejections) == 0 {
		return
	}
	rows := make([][]string, 0, len(ack.Rejections))
	for _, r := range ack.Rejections {
		rows = append(rows, []string{r.Kind, strconv.Itoa(r.Index), r.ReportID, r.UDI, r.Code, r.Message})
	}
	_ = writeTable(w, []string{"KIND", "INDEX", "REPORT", "UDI", "CODE", "REASON"}, rows)
}

func newTrustCmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("trust", "Generate offline trust files for products under Smart Licensing Using Policy",
		newTrustGenerateCmd(f, &s))
	s.registerAccount(cmd)
	s.registerVA(cmd)
	return cmd
}

func newTrustGenerateCmd(f *clientFlags, s *scope) *cobra.Command {
	var udis []string
	var udisFile, out string
	cmd := &cobra.Command{
		Use:   "generate (--udi PID:SN ... | --udis-file FILE) [--file TRUST-FILE]",
		Short: "Generate a trust file for listed UDIs, for products that cannot reach the manager",
		Long: `Generate an offline trust file: one signed trust code per listed UDI, in the
Virtual Account --va. Each product imports it ("smartlic device license smart
import FILE"); its first usage file (or sync) binds its key, and reports
signed by any other key are refused from then on. A UDI already under policy
in this account gets a new trust code (a replaced device binds its new key).
--udis-file lists one UDI per line (blank lines and # comments ignored).`,
		Example: "  smartlic trust generate --va Lab --udi C9300-24T:FOC2231X0AB --udi C9300-24T:FOC2231X0AC --file lab-trust.json",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			list := append([]string(nil), udis...)
			if udisFile != "" {
				data, err := readFileArg("--udis-file", udisFile)
				if err != nil {
					return err
				}
				sc := bufio.NewScanner(bytes.NewReader(data))
				for sc.Scan() {
					line := strings.TrimSpace(sc.Text())
					if line != "" && !strings.HasPrefix(line, "#") {
						list = append(list, line)
					}
				}
			}
			if len(list) == 0 {
				return smartlic.Invalid("--udi", "list at least one UDI (--udi PID:SN or --udis-file FILE)")
			}
			parsed := make([]smartlic.UDI, len(list))
			for i, u := range list {
				var err error
				if parsed[i], err = smartlic.ParseUDI("--udi", u); err != nil {
					return err
				}
			}
			if out == "" {
				out = "trust.json"
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				tf, err := a.GenerateTrustFile(ctx, sa, s.va, parsed)
				if err != nil {
					return err
				}
				if err := writeFileOut("--file", out, tf); err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, tf)
				}
				fmt.Fprintf(p.w, "Trust file with %s for %s / %s written to %s: import it on the products (smartlic device license smart import %s)\n",
					plural(len(tf.TrustCodes), "trust code"), tf.SmartAccount, tf.VirtualAccount, out, out)
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVar(&udis, "udi", nil, "UDI (PID:SN) of a product; repeat for several")
	cmd.Flags().StringVar(&udisFile, "udis-file", "", "file with one UDI per line")
	cmd.Flags().StringVar(&out, "file", "", "where to write the trust file (default trust.json)")
	return cmd
}
