// Command auditor audits the SSM State Manager associations of a whole fleet
// and writes CSV, XLSX, HTML and JSON reports. Run "auditor --help".
package main

import (
	"context"
	"os"

	"github.com/auditor-dev/auditor/internal/cli"
	"github.com/auditor-dev/auditor/internal/earlysig"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; a
// plain build reports the module version and the commit it was built from.
var version = ""

func main() {
	cli.SurviveBrokenPipes()
	cli.HideSecrets()
	// The first SIGINT or SIGTERM cancels ctx: the run stops starting
	// instances and writes partial reports. A second one, not the same
	// sent twice, ends the process at once; the record stays valid.
	// earlysig caught them from before the SDK initialised.
	ctx, stop := cli.NotifyContext(context.Background(), earlysig.C)
	cli.Version = version
	cli.Program = os.Args[0]
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
