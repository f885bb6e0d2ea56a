package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/sync/errgroup"
)

// TagLabelPrefix names the label that carries a tag: tag:Team for Team.
const TagLabelPrefix = "tag:"

// EC2TagsAPI is the EC2 call that reads instances' tags.
type EC2TagsAPI interface {
	DescribeTags(ctx context.Context, params *ec2.DescribeTagsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeTagsOutput, error)
}

// SSMTagsAPI is the SSM call that reads a hybrid node's tags.
type SSMTagsAPI interface {
	ListTagsForResource(ctx context.Context, params *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
}

// ec2FilterValues is how many filter values EC2 takes in one call, all of
// its filters together: more is refused (FilterLimitExceeded).
const ec2FilterValues = 200

// maxKeyFilter is the most tag keys that ReadTags has EC2 filter on. Each
// key is a filter value, and takes an instance ID's place in the call; past
// it, a call asks for every tag of ec2FilterValues instances and the keys
// are picked out here. An instance has at most 50 tags, so at the crossing
// either way reads about as many tags a call.
const maxKeyFilter = 100

// TagIDsPerCall is how many EC2 instances one DescribeTags call of
// ReadTags asks about for that many tag keys: what the 200 filter values
// leave beside the keys, or 200 past maxKeyFilter keys. A caller that
// gathers instances for ReadTags gathers as many, so that each batch is
// one call.
func TagIDsPerCall(keys int) int {
	if keys <= maxKeyFilter {
		return ec2FilterValues - keys
	}
	return ec2FilterValues
}

// ReadTags reads the tags named by keys of the instances ids of one
// account-region and calls fn with each instance's labels (tag:KEY, the
// tag's value) that has any: EC2 instances (i-) with ec2:DescribeTags and
// every page, up to maxKeyFilter keys filtered by EC2 and as many instances
// a call as the rest of its 200 filter values allow, more keys picked out
// of all the tags of 200 instances a call; hybrid nodes (mi-) with
// ssm:ListTagsForResource, one call each, a few at a time (a node SSM does
// not know has no tags). Only a tag whose key is one of keys, exactly, is
// a label (EC2's key filter takes * and ? as wildcards), and the label is
// named by the key as it is. A value is written as EscapeLabel writes it
// (in Normalization Form C, so that Müller typed on a Mac is the Müller
// typed elsewhere), and escaped names, sorted, the labels whose values had
// a character escaped: a tag is set by anyone who may tag an instance,
// and cannot be refused as a list's label is. fn is called from one
// goroutine at a time. The first error stops it and is returned.
func ReadTags(ctx context.Context, ec2c EC2TagsAPI, ssmc SSMTagsAPI, ids, keys []string, fn func(id string, labels map[string]string, escaped []string)) error {
	if len(keys) == 0 {
		return nil
	}
	wanted := map[string]bool{}
	for _, k := range keys {
		wanted[k] = true
	}
	perCall, filters := TagIDsPerCall(len(keys)), []ec2types.Filter(nil)
	if len(keys) <= maxKeyFilter {
		filters = []ec2types.Filter{{Name: aws.String("key"), Values: keys}}
	}
	var ec2IDs, hybrid []string
	for _, id := range ids {
		if strings.HasPrefix(id, "mi-") {
			hybrid = append(hybrid, id)
		} else {
			ec2IDs = append(ec2IDs, id)
		}
	}
	var mu sync.Mutex
	for len(ec2IDs) > 0 {
		n := min(perCall, len(ec2IDs))
		batch := ec2IDs[:n]
		ec2IDs = ec2IDs[n:]
		found := map[string]map[string]string{}
		p := ec2.NewDescribeTagsPaginator(ec2c, &ec2.DescribeTagsInput{
			MaxResults: aws.Int32(1000),
			Filters:    append([]ec2types.Filter{{Name: aws.String("resource-id"), Values: batch}}, filters...),
		})
		for pages := 0; p.HasMorePages(); pages++ {
			if pages >= 1000 {
				return fmt.Errorf("ec2:DescribeTags: more than %d pages for %d instances", pages, n)
			}
			out, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("ec2:DescribeTags: %w", err)
			}
			for _, tg := range out.Tags {
				if !wanted[aws.ToString(tg.Key)] {
					continue
				}
				id := aws.ToString(tg.ResourceId)
				if found[id] == nil {
					found[id] = map[string]string{}
				}
				found[id][TagLabelPrefix+aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
		}
		for _, id := range batch {
			if l := found[id]; l != nil {
				fn(id, l, escapeTags(l))
			}
		}
	}
	if len(hybrid) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, id := range hybrid {
		g.Go(func() error {
			out, err := ssmc.ListTagsForResource(gctx, &ssm.ListTagsForResourceInput{
				ResourceType: ssmtypes.ResourceTypeForTaggingManagedInstance,
				ResourceId:   aws.String(id),
			})
			var unknown *ssmtypes.InvalidResourceId
			switch {
			case errors.As(err, &unknown):
				return nil // deregistered, or never was: no tags, and the audit says not managed
			case err != nil:
				return fmt.Errorf("ssm:ListTagsForResource %s: %w", id, err)
			}
			labels := map[string]string{}
			for _, tg := range out.TagList {
				if k := aws.ToString(tg.Key); wanted[k] {
					labels[TagLabelPrefix+k] = aws.ToString(tg.Value)
				}
			}
			if len(labels) > 0 {
				mu.Lock()
				defer mu.Unlock()
				fn(id, labels, escapeTags(labels))
			}
			return nil
		})
	}
	return g.Wait()
}

// escapeTags writes each value of labels as EscapeLabel does and returns
// the labels whose values it escaped, sorted: one only put in Normalization
// Form C reads as it did, and is not said to be changed.
func escapeTags(labels map[string]string) []string {
	var escaped []string
	for k, v := range labels {
		e, changed := EscapeLabel(v)
		labels[k] = e
		if changed {
			escaped = append(escaped, k)
		}
	}
	slices.Sort(escaped)
	return escaped
}
