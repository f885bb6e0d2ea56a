// Command auditor audits the SSM State Manager associations of a whole fleet
// and writes CSV, XLSX, HTML and JSON reports. Run "auditor --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/auditor-dev/auditor/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; a
// plain build reports the module version and the commit it was built from.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal cancels ctx: the run stops starting instances and
	// writes partial reports. Then the default handling is back, so a
	// second signal ends the process at once; the record stays valid.
	context.AfterFunc(ctx, stop)
	cli.Version = version
	os.Exit(cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
