package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/auditor-dev/auditor/audit"
)

// readTags labels the targets with the tags --tag-labels (or --split-by
// tag:KEY) names, one account-region at a time. A tag that cannot be read
// stops the run before any audit: reports split by an owner who is missing
// would go to nobody, and the run would look complete.
func (j *job) readTags(ctx context.Context, stderr io.Writer) error {
	keys := j.org.tagKeys
	tagged, total := 0, 0
	for _, b := range j.fleet.Batches() {
		var ids []string
		for t := range b.Targets {
			ids = append(ids, t.InstanceID)
		}
		region := cmp.Or(b.Region, j.conn.Region())
		where := strings.TrimPrefix(b.AccountID+" ", " ") + region
		ec2c, err := j.conn.EC2In(b.AccountID, region)
		if err != nil {
			return tagsError(where, err)
		}
		ssmc, err := j.conn.SSMIn(b.AccountID, region)
		if err != nil {
			return tagsError(where, err)
		}
		err = audit.ReadTags(ctx, ec2c, ssmc, ids, keys, func(id string, labels map[string]string) {
			tagged++
			j.fleet.SetLabels(audit.Key{AccountID: b.AccountID, Region: b.Region, InstanceID: id}, labels)
		})
		if err != nil {
			if ctx.Err() != nil {
				return errInterrupted
			}
			return tagsError(where, err)
		}
		total += len(ids)
	}
	j.o.logf(stderr, "tags %s read for %s: %d have at least one", strings.Join(keys, ", "), plural(total, "instance"), tagged)
	return nil
}

func tagsError(where string, err error) error {
	return fmt.Errorf("%w: reading the tags of --tag-labels in %s: %w; grant ec2:DescribeTags (and ssm:ListTagsForResource for mi- nodes), or run without --tag-labels", audit.ErrFatal, where, err)
}
