package cli

import (
	"fmt"
	"slices"
	"strings"
)

// recordedOptions are the options of run.json that change what a result
// records, beside its targets: a resume with others would mix results with
// instance information and without, verdicts of the overview and of every
// page, or labels of tags with none, in one record.
var recordedOptions = []struct{ key, flag string }{
	{"with_instance_info", "--with-instance-info"},
	{"triage", "--triage"},
	{"tag_labels", "--tag-labels"},
}

// resumedOptions refuses a resume whose recordedOptions are not those of
// the run it continues, as its run.json gives them (a run killed before
// its run.json gives none to compare with).
func (j *job) resumedOptions() error {
	prev, ok := j.previousRun()
	if !ok {
		return nil
	}
	var differ []string
	for _, o := range recordedOptions {
		was, now := optionText(prev.Options[o.key]), optionText(j.info.Options[o.key])
		if o.key == "tag_labels" {
			// A set of tag keys: in another order, or one twice, the
			// same (case counts: tag keys are case-sensitive).
			was, now = keySet(was), keySet(now)
		}
		if was == now {
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
		return nil
	}
	return usagef("--resume: %s; its results would not record the same: resume with the run's own options (those in its run.json), or start a new run with another --out",
		strings.Join(differ, "; "))
}

// optionText is an option's value in run.json as text: "" when unset.
func optionText(v any) string {
	if v == nil || v == false {
		return ""
	}
	return fmt.Sprint(v)
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
