package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/sign"
)

// reservationCmd is "device license smart reservation …", the IOS-XE
// command tree of license reservation.
func (f *deviceFlags) reservationCmd() *cobra.Command {
	return group("reservation", "License reservation (SLR/PLR): request, install and return licenses with paste-able codes, offline",
		f.reservationEnableCmd(),
		f.reservationCodeCmd("request", "Print the request code to enter in the license manager (Reserve licenses)",
			func(a *agent.Agent) (string, error) { return a.RequestReservation() },
			"request_code", "Enter this request code in the license manager (smartlic reservation create --request CODE …):"),
		f.reservationInstallCmd(),
		f.reservationCodeCmd("return", "Remove the installed reservation and print the return code that gives the licenses back",
			func(a *agent.Agent) (string, error) { return a.ReturnReservation() },
			"return_code", "Reservation removed. Enter this return code in the license manager (smartlic reservation return --code CODE):"),
		f.reservationCodeCmd("cancel", "Discard a request that has no authorization installed (prints a return code in case the manager already reserved)",
			func(a *agent.Agent) (string, error) { return a.CancelReservationRequest() },
			"return_code", "Request cancelled. If a reservation was already made for it, enter this return code in the license manager:"),
	)
}

func (f *deviceFlags) reservationEnableCmd() *cobra.Command {
	var keysFile string
	cmd := &cobra.Command{
		Use:   "enable [--keys FILE]",
		Short: "Enable license reservation, trusting the manager's keys (from FILE, or fetched once from --server)",
		Long: `Enable license reservation. Authorization codes are verified offline with the
manager's public keys, so the instance must trust them first: --keys FILE
reads them from the manager's GET /device/v1/keys answer saved to a file
(for an instance that never reaches the manager); without it, the keys
already pinned at a registration are used, or they are fetched once from
--server.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := readManagerKeys(keysFile)
			if err != nil {
				return err
			}
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			if err := a.EnableReservation(cmd.Context(), keys); err != nil {
				var unreachable *url.Error
				if keys == nil && errors.As(err, &unreachable) {
					// Reservation is for instances that never reach the
					// manager: say how to enable it without the network.
					server, _ := f.serverURL()
					return fmt.Errorf("cannot reach the smartlic server at %s to fetch its keys: an air-gapped instance enables reservation offline with --keys FILE, "+
						"FILE being the manager's GET %s/device/v1/keys answer saved elsewhere (curl -o keys.json …), or set --server or %s: %w", server, server, envServer, err)
				}
				return f.reach(err)
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, st.Reservation)
			}
			ids := st.ManagerKeyIDs
			fmt.Fprintf(p.w, "License reservation: ENABLED\nManager Keys Trusted: %s\n", strings.Join(ids, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&keysFile, "keys", "", "file with the manager's keys (the JSON of GET /device/v1/keys)")
	return cmd
}

// readManagerKeys reads the --keys file of an air-gapped instance: the
// manager's GET /device/v1/keys answer, saved where the manager is
// reachable and carried over. Nil for no file.
func readManagerKeys(file string) (sign.KeySet, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, smartlic.Invalid("--keys", "cannot read %s: %v", file, err)
	}
	var ks smartlic.PublicKeySet
	if err := json.Unmarshal(b, &ks); err != nil {
		return nil, smartlic.Invalid("--keys", "%s is not the manager's key list ({\"keys\":[…]} from GET /device/v1/keys): %v", file, err)
	}
	keys := sign.NewKeySet(ks.Keys)
	if len(keys) == 0 {
		return nil, smartlic.Invalid("--keys", "%s holds no Ed25519 key", file)
	}
	return keys, nil
}

// reservationCodeCmd is a verb that prints one code.
func (f *deviceFlags) reservationCodeCmd(verb, short string, do func(*agent.Agent) (string, error), jsonKey, lead string) *cobra.Command {
	return &cobra.Command{
		Use:   verb,
		Short: short,
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			code, err := do(a)
			if err != nil {
				return err
			}
			if p.json {
				return writeJSON(p.w, map[string]string{jsonKey: code})
			}
			_, err = fmt.Fprintf(p.w, "%s\n%s\n", lead, code)
			return err
		},
	}
}

func (f *deviceFlags) reservationInstallCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "install CODE",
		Short: "Install an authorization code from the license manager and print the confirmation code",
		Args:  args("CODE"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			a, p, err := f.open(smartlic.UDI{}, "")
			if err != nil {
				return err
			}
			confirm, err := a.InstallReservation(argv[0])
			if err != nil {
				return err
			}
			st := a.Status()
			if p.json {
				return writeJSON(p.w, map[string]any{"confirmation_code": confirm, "reservation": st.Reservation})
			}
			r := st.Reservation
			fmt.Fprintf(p.w, "Reservation INSTALLED: authorization %d (%s)\n", r.Sequence, r.Kind)
			for _, l := range r.Licenses {
				n := fmtInt(l.Count)
				if r.Kind == "permanent" {
					n = "any number"
				}
				fmt.Fprintf(p.w, "  %s: %s\n", l.Tag, n)
			}
			_, err = fmt.Fprintf(p.w, "Enter this confirmation code in the license manager (smartlic reservation confirm --code CODE):\n%s\n", confirm)
			return err
		},
	}
}
