// Command bench measures smartlic's throughput and latency through the
// real HTTP server and prints tables of numbers. Tests never time
// anything; this harness does, so that speed is measured, not asserted.
//
//	go run ./bench registrations --store sqlite --n 20000 --concurrency 32
//	go run ./bench authorizations --store both --n 20000 --concurrency 32
//	go run ./bench poolview --store sqlite --instances 100000 --vas 20 --requests 2000
//	go run ./bench usage --store both --n 10000 --concurrency 32
//	go run ./bench usage-file --store both --reports 10000 --instances 1000
//
// Each run starts the server in-process on 127.0.0.1:0 over a fresh store
// (a SQLite file in a temporary directory, or a new schema on the
// PostgreSQL server in SMARTLIC_BENCH_POSTGRES, dropped afterwards), seeds
// it through the manager, prepares every signed request before the clock
// starts, fires them over keep-alive HTTP connections and checks every
// answer: a fast wrong answer fails the run. Failures make the command
// exit non-zero.
//
// The same scenarios back the Go benchmarks in this directory
// (go test -run '^$' -bench . ./bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usage = `usage: go run ./bench <subcommand> [flags]

subcommands:
  registrations   POST /device/v1/register: registrations per second and latency
  authorizations  POST /device/v1/authorize on registered instances
  poolview        GET the license pools of a Smart Account with many instances
  scale           a bulk-loaded Smart Account (1,000,000 instances, 10,000 license
                  types) read through the real binary: license pages and
                  summaries, alert scan, report, RSS and cold start
  usage           POST /device/v1/usage (RUM reports of 10 measurements) beside the
                  single-core Ed25519 verify rate
  usage-file      one offline usage file of many instances' reports uploaded through
                  the API, time to its ACK file, beside the same verify rate

Run "go run ./bench <subcommand> -h" for its flags.
`

// run is the whole command, so that it can be driven in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("a subcommand is required")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "registrations":
		return runRegistrations(ctx, rest, stdout, stderr)
	case "authorizations":
		return runAuthorizations(ctx, rest, stdout, stderr)
	case "poolview":
		return runPoolView(ctx, rest, stdout, stderr)
	case "usage":
		return runUsage(ctx, rest, stdout, stderr)
	case "scale":
		return runScale(ctx, rest, stdout, stderr)
	case "usage-file":
		return runUsageFile(ctx, rest, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown subcommand %q", cmd)
}

// commonFlags are the flags every subcommand takes.
type commonFlags struct {
	store      string
	cpuprofile string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "sqlite", "sqlite, postgres or both (PostgreSQL from $"+postgresEnv+", default "+defaultPostgres+")")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed phase to `FILE` (with --store both, one file per store: FILE.sqlite, FILE.postgres); server handlers are labelled side=server, load workers side=client")
}

// stores returns the backends --store names.
func (c *commonFlags) stores() ([]string, error) {
	switch c.store {
	case "sqlite", "postgres":
		return []string{c.store}, nil
	case "both":
		return []string{"sqlite", "postgres"}, nil
	}
	return nil, usagef("--store must be sqlite, postgres or both (got %q)", c.store)
}

// profilePath is where the CPU profile of one store's run goes.
func (c *commonFlags) profilePath(store string, multiple bool) string {
	if c.cpuprofile == "" || !multiple {
		return c.cpuprofile
	}
	return c.cpuprofile + "." + store
}

// parseFlags parses args into fs and refuses positional arguments, which
// would otherwise be silently ignored.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("%s takes no arguments (got %q)", fs.Name(), strings.Join(fs.Args(), " "))
	}
	return nil
}

// bounded is an integer flag and the range it must lie in.
type bounded struct {
	name      string
	v, lo, hi int
}

// checkRanges refuses the first flag value outside its range.
func checkRanges(flags ...bounded) error {
	for _, f := range flags {
		if err := checkRange(f.name, f.v, f.lo, f.hi); err != nil {
			return err
		}
	}
	return nil
}

// checkRange refuses a flag value outside [lo, hi].
func checkRange(name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return usagef("--%s must be between %d and %d (got %d)", name, lo, hi, v)
	}
	return nil
}
