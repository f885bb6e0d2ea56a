package ssmsim_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// TestDescribeTags: every page of EC2 DescribeTags through the SDK's
// paginator gives the tags of the fleet's EC2 instances (no mi- node), as
// the filters narrow them, and bad input is refused in EC2's words.
func TestDescribeTags(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 200})
	_, url := start(t, f, ssmsim.Options{})
	c := ec2.NewFromConfig(sdkConfig(url, "us-east-1", static("AKIDTAGS")))
	all := func(t *testing.T, in *ec2.DescribeTagsInput) map[string]map[string]string {
		t.Helper()
		got := map[string]map[string]string{}
		p := ec2.NewDescribeTagsPaginator(c, in)
		for pages := 0; p.HasMorePages(); pages++ {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if in.MaxResults != nil && len(out.Tags) > int(*in.MaxResults) {
				t.Fatalf("page of %d tags, MaxResults %d", len(out.Tags), *in.MaxResults)
			}
			for _, tg := range out.Tags {
				id := aws.ToString(tg.ResourceId)
				if got[id] == nil {
					got[id] = map[string]string{}
				}
				got[id][aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
		}
		return got
	}
	want := map[string]map[string]string{}
	teams := map[string]map[string]string{}
	var some string
	for _, id := range f.IDs() {
		in, _ := f.Instance(id)
		if !strings.HasPrefix(id, "i-") || len(in.Tags) == 0 {
			continue
		}
		want[id] = in.Tags
		if v, ok := in.Tags["Team"]; ok {
			teams[id] = map[string]string{"Team": v}
			some = id
		}
	}
	if len(teams) < 10 || len(want) == len(f.IDs()) {
		t.Fatalf("fleet: %d of %d tagged EC2 instances have a Team; want a fleet with some, and some mi- nodes", len(teams), len(want))
	}

	if got := all(t, &ec2.DescribeTagsInput{MaxResults: aws.Int32(7)}); !maps.EqualFunc(got, want, maps.Equal) {
		t.Errorf("every tag, 7 a page: %d instances, want %d", len(got), len(want))
	}
	if got := all(t, &ec2.DescribeTagsInput{}); !maps.EqualFunc(got, want, maps.Equal) {
		t.Errorf("every tag without MaxResults: %d instances, want %d", len(got), len(want))
	}
	byKey := &ec2.DescribeTagsInput{MaxResults: aws.Int32(5), Filters: []ec2types.Filter{
		{Name: aws.String("key"), Values: []string{"Team"}},
		{Name: aws.String("resource-type"), Values: []string{"instance"}},
	}}
	if got := all(t, byKey); !maps.EqualFunc(got, teams, maps.Equal) {
		t.Errorf("key Team: %d instances, want %d", len(got), len(teams))
	}
	one := &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("resource-id"), Values: []string{some}},
		{Name: aws.String("key"), Values: []string{"Team"}},
	}}
	if got := all(t, one); len(got) != 1 || !maps.Equal(got[some], teams[some]) {
		t.Errorf("resource-id %s, key Team: %v, want %v", some, got, teams[some])
	}
	vol := &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-type"), Values: []string{"volume"}}}}
	if got := all(t, vol); len(got) != 0 {
		t.Errorf("resource-type volume: %d resources, want none", len(got))
	}

	for name, in := range map[string]*ec2.DescribeTagsInput{
		"MaxResults 3":   {MaxResults: aws.Int32(3)},
		"unknown filter": {Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"blue"}}}},
		"forged token":   {NextToken: aws.String("bm90IGEgdG9rZW4=")},
	} {
		_, err := c.DescribeTags(ctx(t), in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
			t.Errorf("%s: %v, want InvalidParameterValue", name, err)
		}
	}
}

// TestListTagsForResource: a hybrid node's tags through the SDK; an EC2
// instance or an unknown node is InvalidResourceId.
func TestListTagsForResource(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 200})
	_, url := start(t, f, ssmsim.Options{})
	c := ssm.NewFromConfig(sdkConfig(url, "us-east-1", static("AKIDTAGS")))
	var mi, ec2ID string
	for _, id := range f.ManagedIDs() {
		switch {
		case mi == "" && strings.HasPrefix(id, "mi-"):
			mi = id
		case ec2ID == "" && strings.HasPrefix(id, "i-"):
			ec2ID = id
		}
	}
	out, err := c.ListTagsForResource(ctx(t), &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingManagedInstance, ResourceId: aws.String(mi)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tg := range out.TagList {
		got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if in, _ := f.Instance(mi); len(got) == 0 || !maps.Equal(got, in.Tags) {
		t.Errorf("tags of %s: %v, want %v", mi, got, in.Tags)
	}
	for _, id := range []string{ec2ID, "mi-0123456789abcdef0"} {
		_, err := c.ListTagsForResource(ctx(t), &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingManagedInstance, ResourceId: aws.String(id)})
		var bad *ssmtypes.InvalidResourceId
		if !errors.As(err, &bad) {
			t.Errorf("%s: %v, want InvalidResourceId", id, err)
		}
	}
}

// TestDescribeTagsFilterLimit: EC2 takes at most 200 filter values in one
// call, all its filters together, and refuses more with
// FilterLimitExceeded (HTTP 400, in its own words). The simulator took any
// number, so the auditor's 200 instance IDs and a key passed here and
// failed against AWS.
func TestDescribeTagsFilterLimit(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 20})
	_, url := start(t, f, ssmsim.Options{})
	c := ec2.NewFromConfig(sdkConfig(url, "us-east-1", static("AKIDTAGS")))
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("i-%017x", i)
		}
		return out
	}
	filters := func(idCount int, keys ...string) []ec2types.Filter {
		fs := []ec2types.Filter{{Name: aws.String("resource-id"), Values: ids(idCount)}}
		if len(keys) > 0 {
			fs = append(fs, ec2types.Filter{Name: aws.String("key"), Values: keys})
		}
		return fs
	}
	tests := []struct {
		name    string
		filters []ec2types.Filter
		refused bool
	}{
		{"200 IDs", filters(200), false},
		{"199 IDs and a key", filters(199, "Team"), false},
		{"200 IDs and a key", filters(200, "Team"), true},
		{"201 IDs", filters(201), true},
		{"101 IDs and 100 keys", append(filters(101), ec2types.Filter{Name: aws.String("key"), Values: ids(100)}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DescribeTags(ctx(t), &ec2.DescribeTagsInput{Filters: tt.filters})
			if !tt.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("taken, want FilterLimitExceeded")
			}
			const want = "The maximum number of filter values specified on a single call is 200"
			if code, msg, status := apiCode(t, err); code != "FilterLimitExceeded" || msg != want || status != 400 {
				t.Errorf("%s %q (HTTP %d), want FilterLimitExceeded %q (HTTP 400)", code, msg, status, want)
			}
		})
	}
}
