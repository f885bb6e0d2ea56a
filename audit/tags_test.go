package audit_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// countingEC2 is the real EC2 client, with the filter values of each
// DescribeTags call it passes on counted.
type countingEC2 struct {
	c      *ec2.Client
	mu     sync.Mutex
	values []int // the filter values of each call, all filters together
}

func (c *countingEC2) DescribeTags(ctx context.Context, in *ec2.DescribeTagsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeTagsOutput, error) {
	n := 0
	for _, f := range in.Filters {
		n += len(f.Values)
	}
	c.mu.Lock()
	c.values = append(c.values, n)
	c.mu.Unlock()
	return c.c.DescribeTags(ctx, in, optFns...)
}

var _ audit.EC2TagsAPI = (*countingEC2)(nil)

// TestReadTagsFilterValues: EC2 takes at most 200 filter values in one
// call, all its filters together, and answers more with
// FilterLimitExceeded. ReadTags sent 200 instance IDs and, besides them,
// one value a tag key: with --tag-labels of any key, a fleet of more than
// 200 EC2 instances could not be labelled at all. However many keys, every
// call now holds at most 200 values, and every instance gets the tags it
// has of those keys (and no other).
func TestReadTagsFilterValues(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 400})
	url, _ := serveFleet(t, f, ssmsim.Options{})
	creds := credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "secret", "")
	cfg := aws.Config{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(url)}
	ssmc := ssm.NewFromConfig(cfg)
	var ids []string
	ec2IDs := 0
	for _, id := range f.IDs() {
		ids = append(ids, id)
		if strings.HasPrefix(id, "i-") {
			ec2IDs++
		}
	}
	if ec2IDs < 250 {
		t.Fatalf("the fleet has %d EC2 instances; want over 250, more than one call's worth", ec2IDs)
	}
	// Keys the fleet's tags have, then as many more as fill a call.
	many := []string{"Team", "Environment"}
	for len(many) < 230 {
		many = append(many, fmt.Sprintf("Key%03d", len(many)))
	}
	for _, keys := range [][]string{{"Team", "Environment"}, many[:150], many} {
		want := map[string]map[string]string{}
		for _, id := range ids {
			in, _ := f.Instance(id)
			if strings.HasPrefix(id, "mi-") && !f.Managed(id) {
				continue // deregistered: SSM no longer knows its tags
			}
			l := map[string]string{}
			for _, k := range keys {
				if v, ok := in.Tags[k]; ok {
					l[audit.TagLabelPrefix+k] = v
				}
			}
			if len(l) > 0 {
				want[id] = l
			}
		}
		ec2c := &countingEC2{c: ec2.NewFromConfig(cfg)}
		got := map[string]map[string]string{}
		err := audit.ReadTags(context.Background(), ec2c, ssmc, ids, keys, func(id string, labels map[string]string, _ []string) {
			got[id] = labels
		})
		if err != nil {
			t.Fatalf("%d keys: %v", len(keys), err)
		}
		for i, n := range ec2c.values {
			if n > 200 {
				t.Errorf("%d keys: DescribeTags call %d of %d holds %d filter values; EC2 takes 200", len(keys), i+1, len(ec2c.values), n)
			}
		}
		if len(want) < 100 || !maps.EqualFunc(got, want, maps.Equal) {
			t.Errorf("%d keys: %d instances labelled, want %d (every one with one of the keys, with its tags of them)", len(keys), len(got), len(want))
		}
	}
}

// TestTagIDsPerCall: what a batch of ReadTags is for one call, as discovery
// gathers its nodes: 200 filter values, the keys' among them up to 100
// keys. Discovery gathered 200 nodes whatever the keys, which took two
// calls a batch (198 and 2 with two keys).
func TestTagIDsPerCall(t *testing.T) {
	for keys, want := range map[int]int{1: 199, 2: 198, 100: 100, 101: 200, 230: 200} {
		if got := audit.TagIDsPerCall(keys); got != want {
			t.Errorf("TagIDsPerCall(%d) = %d, want %d", keys, got, want)
		}
	}
}
