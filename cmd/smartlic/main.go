// Command smartlic is the one binary of the smartlic platform: server,
// API client, device simulator and admin tool.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/smartlic/smartlic/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "smartlic:", err)
		os.Exit(cli.ExitCode(err))
	}
}
