package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// helpWidth is the most columns a line of the help takes, flags' texts
// wrapped to it: under 100, so that a terminal of that width shows it as
// it is.
const helpWidth = 99

// helpFooter ends every command's help.
const helpFooter = "More in README.md, under the section each heading names."

// flagGroup is a heading of a command's help and its flags, in order. The
// heading is a section of README.md, where the flags are told in full
// (TestHelpGroupsREADME); a command shows those of the flags it takes.
type flagGroup struct {
	heading string
	flags   []string
}

// The groups follow README.md's tables of auditor run's flags and of
// Delivery's, in their order, named by the sections that tell of them.
var (
	reliabilityFlags = flagGroup{"Reliability", []string{"call-timeout", "concurrency", "max-results", "max-pages", "rate", "timeout", "grace"}}
	outputFlags      = flagGroup{"Outputs", []string{"out", "resume", "format", "fail-on", "baseline", "split-by", "stale-after", "html-max-rows", "template", "quiet", "log-format"}}
	// deliveryFlags has mail's --to where the others have --mail-to.
	deliveryFlags = flagGroup{"Delivery", []string{"mail-to", "to", "mail-from", "mail-subject", "mail-when", "smtp", "mail-via", "mail-max-body", "mail-max-size", "mail-to-label", "undelivered", "smtp-ca-bundle", "upload", "upload-sse", "upload-kms-key", "upload-bucket-owner", "upload-acl"}}
	// report and mail call AWS only to deliver.
	deliveryAWSFlags = flagGroup{"Delivery", slices.Concat(deliveryFlags.flags, []string{"profile", "region"})}
	optionsFileFlags = flagGroup{"Commands and flags", []string{inputJSONFlag, skeletonFlag}}
)

// commandHelp is what a command's help shows after its usage line: the
// common cases first, then every flag under its group's heading.
type commandHelp struct {
	examples string
	groups   []flagGroup
}

// helps is the help of each command, by its name.
var helps = map[string]commandHelp{
	"run": {
		examples: `  # Audit the instances in a list, with an AWS profile and a region
  auditor run --instances fleet.csv --profile prod --region eu-west-1 --out audit-prod

  # Every managed node of the organisation, in each account's enabled regions
  auditor run --accounts org --role-name AuditRole --regions all --discover --out audit-org

  # Continue an interrupted or partly failed run: the same command, with --resume
  auditor run --resume --instances fleet.csv --profile prod --region eu-west-1 --out audit-prod

  # A weekly job: compared with the last run, each owner mailed the reports of their instances
  auditor run --instances fleet.csv --out audits/{time} --baseline previous --quiet \
    --mail-to-label owner_email --mail-from auditor@example.com \
    --smtp smtp://mail.example.com:587
`,
		groups: []flagGroup{
			{"Instance lists", []string{"instances", "instance-id", "skip-invalid"}},
			{"Sharding", []string{"shard", "shard-count"}},
			{"Use against AWS", []string{"profile", "region", "endpoint-url", "allow-insecure-endpoint", "max-attempts"}},
			{"Many accounts and regions", []string{"accounts", "exclude-accounts", "role-name", "role-arn", "external-id", "role-session-name", "role-duration", "regions", "discover", "filter", "with-instance-info", "triage", "tag-labels"}},
			reliabilityFlags,
			outputFlags,
			deliveryFlags,
			optionsFileFlags,
		},
	},
	"demo": {
		examples: `  # A simulated fleet of 300 instances, every report written to ./auditor-demo
  auditor demo

  # A simulated organisation of 3 accounts, 2 regions each, audited through assumed roles
  auditor demo --accounts 3 --regions 2

  # A larger fleet, another seed, into a directory of its own
  auditor demo --fleet-size 5000 --seed 7 --out demo-5000
`,
		groups: []flagGroup{
			{"auditor demo", []string{"fleet-size", "seed", "accounts", "regions"}},
			reliabilityFlags,
			outputFlags,
			optionsFileFlags,
		},
	},
	"report": {
		examples: `  # Render a run's reports again, in its own directory
  auditor report audit-prod/results.jsonl --out audit-prod

  # Merge the records of the shards of one list into one set of reports
  auditor report shard-*/results.jsonl --out all

  # Split a run's reports by the owner_email label and mail each owner their own
  auditor report audit-prod/results.jsonl --out audit-prod --mail-to-label owner_email \
    --mail-from auditor@example.com --smtp smtp://mail.example.com:587
`,
		groups: []flagGroup{outputFlags, deliveryAWSFlags, optionsFileFlags},
	},
	"mail": {
		examples: `  # Mail a run's reports again, once the mail set-up is fixed
  auditor mail audit-prod --to ops@example.com --mail-from auditor@example.com \
    --smtp smtp://mail.example.com:587

  # Mail each owner of a run split by owner_email their own reports, through Amazon SES
  auditor mail audit-prod --mail-to-label owner_email --mail-from auditor@example.com \
    --mail-via ses --region eu-west-1
`,
		groups: []flagGroup{deliveryAWSFlags, {"Outputs", []string{"quiet", "log-format"}}, optionsFileFlags},
	},
	"simulate": {
		examples: `  # Serve a simulated fleet on loopback; its instance IDs go to simulated-fleet.txt
  auditor simulate --listen 127.0.0.1:4566

  # A simulated organisation of 3 accounts, 2 regions each
  auditor simulate --accounts 3 --regions 2

  # A slow, flaky endpoint: 100 calls a second, 1% server errors, its counters every second
  auditor simulate --rate-limit 100 --error-rate 0.01 --latency 50ms --log-stats 1s
`,
		groups: []flagGroup{
			{"auditor simulate", []string{"listen", "fleet-size", "seed", "ids", "accounts", "regions", "failing", "rate-limit", "burst", "rate-schedule", "throttle-rate", "error-rate", "drop-rate", "latency", "jitter", "clock-skew", "log-stats"}},
			optionsFileFlags,
		},
	},
}

// printHelp writes the help of the command of fs: its usage line, its
// examples, its flags by group, and where to read more. A flag that no
// group names is still listed, under a heading of its own.
func printHelp(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "Usage: auditor %s\n", synopsis)
	h := helps[fs.Name()]
	if h.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s", h.examples)
	}
	shown := map[string]bool{}
	for _, g := range h.groups {
		var flags []*flag.Flag
		for _, name := range g.flags {
			if f := fs.Lookup(name); f != nil {
				flags = append(flags, f)
			}
		}
		if len(flags) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", g.heading)
		for _, f := range flags {
			printFlag(w, f)
			shown[f.Name] = true
		}
	}
	var rest []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !shown[f.Name] {
			rest = append(rest, f)
		}
	})
	if len(rest) > 0 {
		fmt.Fprintf(w, "\nOther flags:\n")
		for _, f := range rest {
			printFlag(w, f)
		}
	}
	fmt.Fprintf(w, "\n%s\n", helpFooter)
}

// printFlag lists a flag the way the AWS CLI spells it, with two dashes
// (Go's flag package accepts both), and its default once: a usage text
// that says its own default is left alone. The text is wrapped to
// helpWidth.
func printFlag(w io.Writer, f *flag.Flag) {
	if c, ok := f.Value.(*checkedValue); ok {
		// UnquoteUsage names the kind of value of flag's own types.
		g := *f
		g.Value = c.Value
		f = &g
	}
	name, usage := flag.UnquoteUsage(f)
	line := "  --" + f.Name
	if name != "" {
		line += " " + name
	}
	switch f.DefValue {
	case "", "0", "0s", "false", "[]":
	default:
		if !strings.Contains(usage, "(default") {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
	}
	fmt.Fprintf(w, "%s\n%s", line, wrapText(usage, "      ", helpWidth))
}

// wrapText breaks text at blanks into lines of at most width columns, each
// starting with indent and ending in a newline; a word longer than a line
// has one of its own.
func wrapText(text, indent string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len([]rune(word)) > width:
			b.WriteString("\n")
			n = 0
		default:
			b.WriteString(" ")
			n++
		}
		if n == 0 {
			b.WriteString(indent)
			n = len(indent)
		}
		b.WriteString(word)
		n += len([]rune(word))
	}
	b.WriteString("\n")
	return b.String()
}
