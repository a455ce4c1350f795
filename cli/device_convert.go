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
				err = writeJSON(p.w, ans)
			} else {
				fmt.Fprintf(p.w, "License conversion for %s into Virtual Account %q:\n", udiLine(ans.UDI), ans.VirtualAccount)
				err = printList(p, ans.Lines, "", conversionLineTable)
			}
			if err != nil {
				return err
			}
			return unconverted(ans)
		},
	}
	cmd.Flags().StringVar(&pak, "pak", "", "PAK number the license came from, when known")
	return cmd
}

// unconverted explains the reported licenses the manager could not match,
// so that a script sees a failure and a person sees what is missing: the
// answer itself is a signed document with a status per line, not an error.
func unconverted(ans smartlic.ConversionAnswer) error {
	for _, l := range ans.Lines {
		switch l.Status {
		case smartlic.NoMatchingPAK:
			from := "no PAK of the Smart Account"
			if l.PAK != "" {
				from = "PAK " + l.PAK
			}
			return smartlic.Errorf(smartlic.ENotFound, "SKU",
				"%s has %s fulfilled on %s: the vendor records the device on the PAK's line (pak deposit … --fulfilled %s,%s,COUNT), or convert the PAK in the account with \"pak convert\"",
				from, l.SKU, ans.UDI, l.SKU, ans.UDI)
		case smartlic.NotMappable:
			return smartlic.Invalid("SKU", "%s is not a classic SKU the manager can convert (unknown, or without a smart license equivalent; see \"sku list\")", l.SKU)
		}
	}
	return nil
}
