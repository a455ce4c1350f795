package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var conversionLineTable = table[smartlic.ConversionLine]{
	header: []string{"SKU", "PAK", "REPORTED", "CONVERTED", "LICENSE", "SMART LICENSES", "STATUS"},
	row: func(l smartlic.ConversionLine) []string {
		return []string{l.SKU, l.PAK, fmtInt(l.Reported), fmtInt(l.Converted), l.LicenseTag, fmtInt(l.Quantity), human(l.Status)}
	},
}

// convertCmd reports a classic license installed on the simulated instance
// and asks the manager to convert it (device-led conversion).
func (f *deviceFlags) convertCmd() *cobra.Command {
	var pak string
	cmd := &cobra.Command{
		Use:   "convert SKU COUNT [--pak PAK]",
		Short: "Report a classic (PAK) license installed on this instance and convert it into smart licenses",
		Long: `Report that COUNT units of a classic SKU are installed on this instance, as
"license smart conversion start" does on IOS-XE. The manager converts the
units its PAK records show fulfilled on this device into smart licenses in
the instance's Virtual Account. Reporting them again converts nothing more
(already converted). The instance must be registered.`,
		Example:     "  smartlic device convert L-C3850-24-S-E 1\n  smartlic device convert L-C3850-24-S-E 1 --pak 3300J7A1B2C",
		Args:        args("SKU", "COUNT"),
		Annotations: map[string]string{numberArg: "COUNT"},
		RunE: func(cmd *cobra.Command, argv []string) error {
			count, err := strconv.ParseInt(argv[1], 10, 64)
			if err != nil {
				return smartlic.Invalid("COUNT", "must be a whole number (got %q)", argv[1])
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			ans, err := a.ConvertClassic(cmd.Context(), []smartlic.ClassicLicense{{SKU: argv[0], PAK: pak, Count: count}})
			if err != nil {
				return f.reach(err)
			}
			if p.json {
				return writeJSON(p.w, ans)
			}
			fmt.Fprintf(p.w, "License conversion for %s into Virtual Account %q:\n", udiLine(ans.UDI), ans.VirtualAccount)
			return printList(p, ans.Lines, "", conversionLineTable)
		},
	}
	cmd.Flags().StringVar(&pak, "pak", "", "PAK number the license came from, when known")
	return cmd
}
