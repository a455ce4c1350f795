package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
)

var licenseTypeTable = table[smartlic.LicenseType]{
	header: []string{"TAG", "NAME", "TERM", "ENFORCEMENT", "ID"},
	row: func(lt smartlic.LicenseType) []string {
		return []string{lt.Tag, lt.Name, string(lt.Term), human(lt.Enforcement), lt.ID}
	},
}

var productTable = table[smartlic.Product]{
	header: []string{"PID", "NAME", "LICENSE TYPES", "DESCRIPTION", "ID"},
	row: func(p smartlic.Product) []string {
		return []string{p.PID, p.Name, strings.Join(p.LicenseTypes, ","), p.Description, p.ID}
	},
}

func newCatalogCmd(f *clientFlags) *cobra.Command {
	return group("catalog", "Manage the vendor catalogue: license types and products",
		group("license-type", "Manage license types (entitlements the vendor sells)",
			newLicenseTypeCreateCmd(f),
			newListCmd(f, "List license types", licenseTypeTable,
				func(ctx context.Context, a api, p smartlic.Page) ([]smartlic.LicenseType, string, error) {
					return a.ListLicenseTypes(ctx, p)
				}),
			newGetCmd(f, "TAG", "Show a license type by tag or id", licenseTypeTable,
				func(ctx context.Context, a api, tag string) (smartlic.LicenseType, error) {
					return a.GetLicenseType(ctx, tag)
				}),
			newDeleteCmd(f, "TAG", "Delete a license type no product or deposit uses", "license type",
				func(ctx context.Context, a api, tag string) error {
					return a.DeleteLicenseType(ctx, tag)
				}),
		),
		group("product", "Manage products and the license types they consume",
			newProductCreateCmd(f),
			newListCmd(f, "List products", productTable,
				func(ctx context.Context, a api, p smartlic.Page) ([]smartlic.Product, string, error) {
					return a.ListProducts(ctx, p)
				}),
			newGetCmd(f, "PID", "Show a product by PID or id", productTable,
				func(ctx context.Context, a api, pid string) (smartlic.Product, error) {
					return a.GetProduct(ctx, pid)
				}),
			newProductUpdateCmd(f),
			newDeleteCmd(f, "PID", "Delete a product", "product",
				func(ctx context.Context, a api, pid string) error {
					return a.DeleteProduct(ctx, pid)
				}),
		),
	)
}

func newLicenseTypeCreateCmd(f *clientFlags) *cobra.Command {
	var (
		lt                smartlic.LicenseType
		term, enforcement string
	)
	cmd := &cobra.Command{
		Use:   "create --tag TAG --name NAME --term perpetual|subscription --enforcement unenforced|enforced|export_controlled",
		Short: "Create a license type",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				lt.Term = smartlic.Term(term)
				lt.Enforcement = smartlic.Enforcement(enforcement)
				got, err := a.CreateLicenseType(ctx, lt)
				if err != nil {
					return err
				}
				return printOne(p, got, licenseTypeTable)
			})
		},
	}
	cmd.Flags().StringVar(&lt.Tag, "tag", "", "entitlement tag, e.g. network-advantage")
	cmd.Flags().StringVar(&lt.Name, "name", "", "display name")
	cmd.Flags().StringVar(&lt.Description, "description", "", "description")
	cmd.Flags().StringVar(&term, "term", "", "perpetual or subscription")
	cmd.Flags().StringVar(&enforcement, "enforcement", "", "unenforced, enforced or export_controlled")
	return cmd
}

func newProductCreateCmd(f *clientFlags) *cobra.Command {
	var pr smartlic.Product
	cmd := &cobra.Command{
		Use:   "create --pid PID --name NAME [--license-types TAG,...]",
		Short: "Create a product",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				if pr.LicenseTypes == nil {
					pr.LicenseTypes = []string{}
				}
				got, err := a.CreateProduct(ctx, pr)
				if err != nil {
					return err
				}
				return printOne(p, got, productTable)
			})
		},
	}
	cmd.Flags().StringVar(&pr.PID, "pid", "", "product ID, the first half of every UDI (PID:SN)")
	cmd.Flags().StringVar(&pr.Name, "name", "", "display name")
	cmd.Flags().StringVar(&pr.Description, "description", "", "description")
	cmd.Flags().StringSliceVar(&pr.LicenseTypes, "license-types", nil, "comma-separated license type tags the product may consume")
	return cmd
}

func newProductUpdateCmd(f *clientFlags) *cobra.Command {
	var (
		name, description string
		licenseTypes      []string
	)
	cmd := &cobra.Command{
		Use:   "update PID [--name NAME] [--description TEXT] [--license-types TAG,...]",
		Short: "Change a product; --license-types= clears the list",
		Args:  args("PID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var u smartlic.ProductUpdate
			if cmd.Flags().Changed("name") {
				u.Name = &name
			}
			if cmd.Flags().Changed("description") {
				u.Description = &description
			}
			if cmd.Flags().Changed("license-types") {
				if licenseTypes == nil {
					licenseTypes = []string{}
				}
				u.LicenseTypes = &licenseTypes
			}
			if u == (smartlic.ProductUpdate{}) {
				return smartlic.Invalid("", "nothing to update: pass --name, --description or --license-types")
			}
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				got, err := a.UpdateProduct(ctx, argv[0], u)
				if err != nil {
					return err
				}
				return printOne(p, got, productTable)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new display name")
	cmd.Flags().StringVar(&description, "description", "", "new description")
	cmd.Flags().StringSliceVar(&licenseTypes, "license-types", nil, "new comma-separated license type tags (replaces the list)")
	return cmd
}

// newListCmd is a "list" verb with --limit, --after and --all.
func newListCmd[T any](f *clientFlags, short string, t table[T], list func(ctx context.Context, a api, p smartlic.Page) ([]T, string, error)) *cobra.Command {
	var pf pageFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				items, next, err := fetch(ctx, cmd, &pf, func(ctx context.Context, page smartlic.Page) ([]T, string, error) {
					return list(ctx, a, page)
				})
				if err != nil {
					return err
				}
				return showList(f, p, items, next, t)
			})
		},
	}
	pf.register(cmd)
	return cmd
}

// newListInCmd is newListCmd for a list of the command's Smart Account
// (s's --account, read when the command runs).
func newListInCmd[T any](f *clientFlags, s *scope, short string, t table[T], list func(ctx context.Context, a api, sa string, p smartlic.Page) ([]T, string, error)) *cobra.Command {
	return newListCmd(f, short, t, func(ctx context.Context, a api, p smartlic.Page) ([]T, string, error) {
		sa, err := f.account(s.account)
		if err != nil {
			return nil, "", err
		}
		return list(ctx, a, sa, p)
	})
}

// newGetCmd is a "get KEY" verb.
func newGetCmd[T any](f *clientFlags, arg, short string, t table[T], get func(ctx context.Context, a api, key string) (T, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "get " + arg,
		Short: short,
		Args:  args(arg),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				got, err := get(ctx, a, argv[0])
				if err != nil {
					return err
				}
				return printOne(p, got, t)
			})
		},
	}
}

// newDeleteCmd is a "delete KEY" verb. It confirms in table mode and
// prints nothing in JSON mode, where there is no object left to show.
func newDeleteCmd(f *clientFlags, arg, short, what string, del func(ctx context.Context, a api, key string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "delete " + arg,
		Short: short,
		Args:  args(arg),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return f.run(cmd, func(ctx context.Context, a api, p printer) error {
				if err := del(ctx, a, argv[0]); err != nil {
					return err
				}
				if !p.json {
					fmt.Fprintf(p.w, "Deleted %s %s.\n", what, argv[0])
				}
				return nil
			})
		},
	}
}
