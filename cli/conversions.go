package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var classicSKUTable = table[smartlic.ClassicSKU]{
	header: []string{"SKU", "CONVERTS TO", "RATIO", "TERM DAYS", "DESCRIPTION", "ID"},
	row: func(s smartlic.ClassicSKU) []string {
		to, term := s.LicenseTag, ""
		if !s.Convertible() {
			to = "-"
		}
		if s.TermDays > 0 {
			term = strconv.Itoa(s.TermDays)
		}
		return []string{s.SKU, to, fmtInt(s.Ratio), term, s.Description, s.ID}
	},
}

var pakTable = table[smartlic.PAK]{
	header: []string{"PAK", "ORDER", "LINES", "UNITS", "CONVERTED", "CREATED", "ID"},
	row: func(p smartlic.PAK) []string {
		var units, converted int64
		for _, l := range p.Lines {
			units += l.Quantity
			converted += l.Converted
		}
		return []string{p.Number, p.OrderNumber, strconv.Itoa(len(p.Lines)), fmtInt(units), fmtInt(converted), fmtTime(p.CreatedAt), p.ID}
	},
}

var pakLineTable = table[smartlic.PAKLine]{
	header: []string{"LINE", "SKU", "QUANTITY", "CONVERTED", "REMAINING", "FULFILLED ON"},
	row: func(l smartlic.PAKLine) []string {
		var on []string
		for _, f := range l.Fulfillments {
			on = append(on, fmt.Sprintf("%s×%d", f.UDI, f.Count))
		}
		return []string{strconv.Itoa(l.Line), l.SKU, fmtInt(l.Quantity), fmtInt(l.Converted), fmtInt(l.Remaining()), strings.Join(on, ", ")}
	},
}

var conversionTable = table[smartlic.Conversion]{
	header: []string{"PAK", "LINE", "SKU", "UNITS", "LICENSE", "QUANTITY", "BY", "DEPOSIT", "AT"},
	row: func(c smartlic.Conversion) []string {
		by := "portal"
		if c.UDI != nil {
			by = c.UDI.String()
		}
		return []string{c.PAKNumber, strconv.Itoa(c.Line), c.SKU, fmtInt(c.Units), c.LicenseTag, fmtInt(c.Quantity), by, c.DepositID, fmtTime(c.CreatedAt)}
	},
}

// conversions reaches the conversion routes of the API client.
func conversions(a any) smartlic.ConversionService { return a.(smartlic.ConversionService) }

// addConversionCommands adds "sku" (the vendor's classic SKUs and their
// smart equivalents) and "pak" (classic PAKs and their conversion).
func addConversionCommands(root *cobra.Command, e *env) {
	f := &clientFlags{e: e}
	for _, noun := range []*cobra.Command{newSKUCmd(f), newPAKCmd(f)} {
		f.register(noun)
		root.AddCommand(noun)
	}
}

func newSKUCmd(f *clientFlags) *cobra.Command {
	cmd := group("sku", "Manage classic SKUs and the smart licenses they convert to (vendor operator)",
		newSKUCreateCmd(f),
		newListCmd(f, "List classic SKUs", classicSKUTable,
			func(ctx context.Context, a api, p smartlic.Page) ([]smartlic.ClassicSKU, string, error) {
				return conversions(a).ListClassicSKUs(ctx, p)
			}),
		newGetCmd(f, "SKU", "Show a classic SKU", classicSKUTable,
			func(ctx context.Context, a api, key string) (smartlic.ClassicSKU, error) {
				return conversions(a).GetClassicSKU(ctx, key)
			}),
		newDeleteCmd(f, "SKU", "Delete a classic SKU (its PAKs stay but no longer convert)", "classic SKU",
			func(ctx context.Context, a api, key string) error {
				return conversions(a).DeleteClassicSKU(ctx, key)
			}),
	)
	cmd.Long = `Classic SKUs are the licenses the vendor sold with Product Activation Keys
(PAKs). Each maps to the smart license type that replaces it, with a ratio
(1 classic unit = RATIO smart licenses); a SKU without --license has no smart
equivalent and does not convert. SKUs of subscription license types need
--term-days: converted licenses run that long from the conversion.`
	return cmd
}

func newSKUCreateCmd(f *clientFlags) *cobra.Command {
	var in smartlic.ClassicSKUInput
	cmd := &cobra.Command{
		Use:     "create --sku SKU [--license TAG [--ratio N] [--term-days DAYS]] [--description TEXT]",
		Short:   "Add a classic SKU and its smart license equivalent",
		Example: "  smartlic sku create --sku L-C3850-24-S-E --license network-essentials --ratio 1\n  smartlic sku create --sku L-DNA-ADV-3Y --license dna-advantage --term-days 1095",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				got, err := conversions(a).CreateClassicSKU(ctx, in)
				if err != nil {
					return err
				}
				return printOne(p, got, classicSKUTable)
			})
		},
	}
	cmd.Flags().StringVar(&in.SKU, "sku", "", "classic SKU")
	cmd.Flags().StringVar(&in.License, "license", "", "tag of the smart license type it converts to (none: not convertible)")
	cmd.Flags().Int64Var(&in.Ratio, "ratio", 1, "smart licenses per classic unit")
	cmd.Flags().IntVar(&in.TermDays, "term-days", 0, "term of converted subscription licenses, in days")
	cmd.Flags().StringVar(&in.Description, "description", "", "description")
	return cmd
}

func newPAKCmd(f *clientFlags) *cobra.Command {
	var s scope
	cmd := group("pak", "Deposit classic PAKs into a Smart Account and convert them into smart licenses",
		newPAKDepositCmd(f, &s),
		newListInCmd(f, &s, "List the Smart Account's PAKs", pakTable,
			func(ctx context.Context, a api, sa string, p smartlic.Page) ([]smartlic.PAK, string, error) {
				return conversions(a).ListPAKs(ctx, sa, p)
			}),
		newPAKGetCmd(f, &s),
		newPAKConversionsCmd(f, &s),
		newPAKConvertCmd(f, &s),
	)
	cmd.Long = `A PAK (Product Activation Key) is a classic license order: lines of classic
SKUs with quantities, some units installed (fulfilled) on devices. The vendor
deposits PAKs into a Smart Account; the account converts them, all at once or
line by line, into smart licenses in a Virtual Account. Each classic unit
converts at most once.`
	s.registerAccount(cmd)
	return cmd
}

func newPAKDepositCmd(f *clientFlags, s *scope) *cobra.Command {
	var (
		in              smartlic.PAKInput
		lines, fulfills []string
	)
	cmd := &cobra.Command{
		Use:   "deposit --number PAK --order ORDER --line SKU,QTY... [--fulfilled SKU,PID:SN,COUNT...]",
		Short: "Deposit a classic PAK (vendor operator)",
		Example: "  smartlic pak deposit --number 3300J7A1B2C --order SO-1001 \\\n" +
			"      --line L-C3850-24-S-E,10 --line L-ASR1001-10G=,2 \\\n" +
			"      --fulfilled L-C3850-24-S-E,WS-C3850-24T:FOC1234X0AB,1",
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			index := map[string]int{}
			for _, l := range lines {
				sku, qty, ok := cutLast(l)
				n, err := strconv.ParseInt(qty, 10, 64)
				if !ok || err != nil {
					return smartlic.Invalid("--line", "must be SKU,QUANTITY such as L-C3850-24-S-E,10 (got %q)", l)
				}
				index[sku] = len(in.Lines)
				in.Lines = append(in.Lines, smartlic.PAKLineInput{SKU: sku, Quantity: n})
			}
			for _, fl := range fulfills {
				rest, count, ok := cutLast(fl)
				sku, udi, ok2 := strings.Cut(rest, ",")
				n, err := strconv.ParseInt(count, 10, 64)
				if !ok || !ok2 || err != nil {
					return smartlic.Invalid("--fulfilled", "must be SKU,PID:SN,COUNT such as L-C3850-24-S-E,WS-C3850-24T:FOC1234X0AB,1 (got %q)", fl)
				}
				u, err := smartlic.ParseUDI("--fulfilled", udi)
				if err != nil {
					return err
				}
				i, found := index[sku]
				if !found {
					return smartlic.Invalid("--fulfilled", "SKU %q has no --line", sku)
				}
				in.Lines[i].Fulfilled = append(in.Lines[i].Fulfilled, smartlic.FulfillmentInput{UDI: u, Count: n})
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				got, err := conversions(a).DepositPAK(ctx, sa, in)
				if err != nil {
					return err
				}
				return printPAK(p, got)
			})
		},
	}
	cmd.Flags().StringVar(&in.Number, "number", "", "PAK number")
	cmd.Flags().StringVar(&in.OrderNumber, "order", "", "order number")
	cmd.Flags().StringArrayVar(&lines, "line", nil, "a line: SKU,QUANTITY (repeat for each line)")
	cmd.Flags().StringArrayVar(&fulfills, "fulfilled", nil, "units of a line installed on a device: SKU,PID:SN,COUNT (repeatable)")
	return cmd
}

// cutLast splits "a,b,c" at its last comma.
func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, ',')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// printPAK shows a PAK: its header line and one row per line.
func printPAK(p printer, k smartlic.PAK) error {
	if p.json {
		return writeJSON(p.w, k)
	}
	fmt.Fprintf(p.w, "PAK %s  order %s  id %s\n", k.Number, k.OrderNumber, k.ID)
	return printList(p, k.Lines, "", pakLineTable)
}

func newPAKGetCmd(f *clientFlags, s *scope) *cobra.Command {
	return &cobra.Command{
		Use:   "get PAK",
		Short: "Show a PAK: its lines, what is converted and where units are installed",
		Args:  args("PAK"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				got, err := conversions(a).GetPAK(ctx, sa, argv[0])
				if err != nil {
					return err
				}
				return printPAK(p, got)
			})
		},
	}
}

func newPAKConversionsCmd(f *clientFlags, s *scope) *cobra.Command {
	return &cobra.Command{
		Use:   "conversions PAK",
		Short: "List what was converted of a PAK, in the portal or by devices",
		Args:  args("PAK"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				got, err := conversions(a).ListConversions(ctx, sa, argv[0])
				if err != nil {
					return err
				}
				return printList(p, got, "", conversionTable)
			})
		},
	}
}

func newPAKConvertCmd(f *clientFlags, s *scope) *cobra.Command {
	var (
		in          smartlic.ConvertInput
		lines, skus []string
		ends        string
	)
	cmd := &cobra.Command{
		Use:   "convert PAK --va VA [--line N[,QTY]]... [--sku SKU[,QTY]]... [--ends DATE]",
		Short: "Convert a PAK, or some of its units, into smart licenses in a Virtual Account",
		Long: `Convert a PAK into smart licenses in a Virtual Account. Without --line or --sku
every unconverted unit with a smart equivalent converts; --line N,QTY (or
--sku SKU,QTY) converts QTY units of one line, and without QTY all that remain
of it. Units already converted are refused (already_converted) and nothing
changes. Subscription licenses end after the SKU's term unless --ends says
otherwise.`,
		Example: "  smartlic pak convert 3300J7A1B2C --va Campus\n  smartlic pak convert 3300J7A1B2C --va Campus --line 1,4 --sku L-ASR1001-10G=",
		Args:    args("PAK"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var err error
			if in.EndsAt, err = parseDate("--ends", ends); err != nil {
				return err
			}
			for _, l := range lines {
				n, qty, hasQty := strings.Cut(l, ",")
				line, err := strconv.Atoi(n)
				if err != nil || line < 1 {
					return smartlic.Invalid("--line", "must be N or N,QUANTITY with N a line number from 1 (got %q)", l)
				}
				cl := smartlic.ConvertLineInput{Line: line}
				if hasQty {
					if cl.Quantity, err = strconv.ParseInt(qty, 10, 64); err != nil || cl.Quantity < 1 {
						return smartlic.Invalid("--line", "quantity must be a whole number from 1 (got %q)", l)
					}
				}
				in.Lines = append(in.Lines, cl)
			}
			for _, sk := range skus {
				cl := smartlic.ConvertLineInput{SKU: sk}
				if sku, qty, ok := cutLast(sk); ok {
					n, err := strconv.ParseInt(qty, 10, 64)
					if err != nil || n < 1 {
						return smartlic.Invalid("--sku", "must be SKU or SKU,QUANTITY (got %q)", sk)
					}
					cl.SKU, cl.Quantity = sku, n
				}
				in.Lines = append(in.Lines, cl)
			}
			return f.runIn(cmd, s.account, func(ctx context.Context, a api, p printer, sa string) error {
				got, err := conversions(a).ConvertPAK(ctx, sa, argv[0], in)
				if err != nil {
					return err
				}
				if p.json {
					return writeJSON(p.w, got)
				}
				return printList(p, got.Conversions, "", conversionTable)
			})
		},
	}
	cmd.Flags().StringVar(&in.VA, "va", "", "Virtual Account that receives the smart licenses")
	cmd.Flags().StringArrayVar(&lines, "line", nil, "line to convert: N or N,QUANTITY (repeatable)")
	cmd.Flags().StringArrayVar(&skus, "sku", nil, "line to convert by SKU: SKU or SKU,QUANTITY (repeatable)")
	cmd.Flags().StringVar(&ends, "ends", "", "end of converted subscription licenses, YYYY-MM-DD or RFC 3339")
	return cmd
}
