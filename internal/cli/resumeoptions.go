package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/auditor-dev/auditor/audit"
)

// recordedOptions are the options of run.json that change what a result
// records, beside its targets: a resume with others would mix results with
// instance information and without, verdicts of the overview and of every
// page, or labels of tags with none, in one record. The tags read are
// those of --tag-labels, --split-by tag:KEY and --mail-to-label tag:KEY
// together (tagKeysRead).
var recordedOptions = []struct{ key, flag string }{
	{"with_instance_info", "--with-instance-info"},
	{"triage", "--triage"},
	{"tag_labels", "the tags read as labels (--tag-labels, --split-by tag:KEY, --mail-to-label tag:KEY)"},
}

// resumedOptions refuses a resume whose recordedOptions are not those of
// the run it continues, as its run.json gives them (a run killed before
// its run.json gives none to compare with), or whose endpoint is the
// region's own AWS endpoint where the run's was not, or the reverse
// (resumedEndpoint); it warns of another endpoint otherwise.
func (j *job) resumedOptions(stderr io.Writer) error {
	prev, ok := j.previousRun()
	if !ok {
		return nil
	}
	var differ []string
	if d, refused := resumedEndpoint(prev.Options, j.info.Options); refused {
		differ = append(differ, d)
	}
	for _, o := range recordedOptions {
		was, now := optionText(prev.Options[o.key]), optionText(j.info.Options[o.key])
		if o.key == "tag_labels" {
			// A set of tag keys: in another order, or one twice, the
			// same (case counts: tag keys are case-sensitive).
			was, now = tagKeysRead(prev.Options), tagKeysRead(j.info.Options)
		}
		if was == now {
			continue
		}
		if o.key == "tag_labels" {
			read := func(v string) string { return cmp.Or(v, "none") }
			differ = append(differ, fmt.Sprintf("%s: the run was started reading %s, this resume reads %s", o.flag, read(was), read(now)))
			continue
		}
		say := func(v string) string {
			switch v {
			case "":
				return "without it"
			case "true":
				return "with it"
			}
			return "with " + v
		}
		differ = append(differ, fmt.Sprintf("%s: the run was started %s, this resume is %s", o.flag, say(was), say(now)))
	}
	if len(differ) == 0 {
		if d, _ := resumedEndpoint(prev.Options, j.info.Options); d != "" {
			fmt.Fprintf(stderr, "auditor: warning: --resume: %s; the record names the last alone: make sure both reach the same fleet\n", d)
		}
		return nil
	}
	return usagef("--resume: %s; its results would not record the same: resume with the run's own options (those in its run.json), or start a new run with another --out",
		strings.Join(differ, "; "))
}

// resumedEndpoint says how the endpoint of a resume (now, its run.json
// options) is not its run's (was), and whether that refuses the resume.
// The region's own AWS endpoint where the run's was a given one (a
// simulator, a local stack, a proxy) is refused: another fleet would
// answer, and the record, naming no endpoint, would read as AWS's alone,
// with the given one's results in it. The reverse is told, not refused:
// a run.json that names no endpoint is
// also one of a release that recorded --endpoint-url's alone, whose run
// AWS_ENDPOINT_URL or the profile pointed at the endpoint that the resume
// names (a VPC endpoint in a Job's spec, the Job resumed after an
// upgrade), and the record then names the given endpoint. Between two
// given endpoints it is told too, as --endpoint-url always was: the same
// service back on another port, or another VPC endpoint of the region, is
// common, and the record still names a given endpoint. The same endpoint
// by another setting (AWS_ENDPOINT_URL for the flag) is no change: "",
// false.
func resumedEndpoint(was, now map[string]any) (differ string, refused bool) {
	before, after := optionText(was["endpoint_url"]), optionText(now["endpoint_url"])
	if before == after {
		return "", false
	}
	say := func(url string, options map[string]any) string {
		if url == "" {
			return "the region's own AWS endpoint"
		}
		if from := optionText(options["endpoint_from"]); from != "" {
			return url + " (set by " + from + ")"
		}
		return url
	}
	if before == "" {
		return "the endpoint: the run's run.json names no endpoint (the region's own AWS endpoint, or one that a release before this one did not record), this resume is against " + say(after, now), false
	}
	return fmt.Sprintf("the endpoint: the run was started against %s, this resume is against %s", say(before, was), say(after, now)), after == ""
}

// optionText is an option's value in run.json as text: "" when unset.
func optionText(v any) string {
	if v == nil || v == false {
		return ""
	}
	return fmt.Sprint(v)
}

// tagKeysRead is the set of tag keys (keySet) that a run of options
// (run.json's) read for every result, each a label of the result: those
// of --tag-labels, and of --split-by and --mail-to-label tag:KEY.
func tagKeysRead(options map[string]any) string {
	keys := optionText(options["tag_labels"])
	for _, o := range []string{"split_by", "mail_to_label"} {
		if k, ok := strings.CutPrefix(optionText(options[o]), audit.TagLabelPrefix); ok {
			keys += "," + k
		}
	}
	return keySet(strings.TrimPrefix(keys, ","))
}

// keySet is a comma-separated list sorted, each item once.
func keySet(list string) string {
	if list == "" {
		return ""
	}
	keys := strings.Split(list, ",")
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), ",")
}
