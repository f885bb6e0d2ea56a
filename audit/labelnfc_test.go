package audit_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/audit"
)

// The same owner spelt composed (NFC, as most editors write it) and
// decomposed (NFD, as macOS and some exports write it): two byte strings
// that read as one.
const (
	mullerNFC = "M\u00fcller"
	mullerNFD = "Mu\u0308ller"
)

// TestReadLabelsNFC: a CSV list whose owner was spelt Müller on one row
// and Mu+U+0308ller on another (as macOS and some exports write it) had
// two owners that read as one: two groups of a split, both named Müller,
// each with half the owner's figures, and two mails. A label's value and
// a column's name are now read in Unicode Normalization Form C, so that the
// two spellings are one value, and two columns whose names read alike are
// two columns of one name.
func TestReadLabelsNFC(t *testing.T) {
	t.Run("values", func(t *testing.T) {
		var f audit.Fleet
		in := "instance_id,owner\ni-0123abcd," + mullerNFC + "\ni-11111111," + mullerNFD + "\n"
		if err := f.Read(strings.NewReader(in), "fleet.csv"); err != nil {
			t.Fatalf("Read: %v", err)
		}
		for _, tg := range f.Targets() {
			if got := tg.Labels["owner"]; got != mullerNFC {
				t.Errorf("%s: owner %+q, want %+q", tg.InstanceID, got, mullerNFC)
			}
		}
	})
	t.Run("a column's name", func(t *testing.T) {
		var f audit.Fleet
		in := "instance_id,Eigent" + "a\u0308" + "mer\ni-0123abcd,ops\n"
		if err := f.Read(strings.NewReader(in), "fleet.csv"); err != nil {
			t.Fatalf("Read: %v", err)
		}
		if want := []string{"Eigent\u00e4mer"}; !slices.Equal(f.LabelKeys, want) {
			t.Errorf("LabelKeys %+q, want %+q", f.LabelKeys, want)
		}
	})
	t.Run("two columns whose names read alike", func(t *testing.T) {
		var f audit.Fleet
		in := "instance_id," + mullerNFC + "," + mullerNFD + "\ni-0123abcd,a,b\n"
		err := f.Read(strings.NewReader(in), "fleet.csv")
		if err == nil || !strings.Contains(err.Error(), "two columns named") {
			t.Fatalf("Read: %v, want two columns of one name", err)
		}
	})
}

// TestEscapeLabelNFC: EscapeLabel writes a value in Normalization Form C,
// which changes no character a reader sees and is no escape.
func TestEscapeLabelNFC(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"decomposed", mullerNFD, mullerNFC, false},
		{"composed", mullerNFC, mullerNFC, false},
		{"decomposed and a zero-width space", mullerNFD + "\u200b", mullerNFC + `\u200b`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := audit.EscapeLabel(tt.in)
			if got != tt.want || changed != tt.changed {
				t.Errorf("EscapeLabel(%+q) = %+q, %v; want %+q, %v", tt.in, got, changed, tt.want, tt.changed)
			}
		})
	}
}

// fakeEC2Tags answers DescribeTags with tags, whatever is asked.
type fakeEC2Tags struct{ tags []ec2types.TagDescription }

func (f fakeEC2Tags) DescribeTags(ctx context.Context, in *ec2.DescribeTagsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeTagsOutput, error) {
	return &ec2.DescribeTagsOutput{Tags: f.tags}, nil
}

var _ audit.EC2TagsAPI = fakeEC2Tags{}

// TestReadTagsNFC: two instances tagged Owner=Müller, one spelt composed
// and one decomposed, have one value of tag:Owner, and neither is said to
// be escaped.
func TestReadTagsNFC(t *testing.T) {
	tag := func(id, v string) ec2types.TagDescription {
		return ec2types.TagDescription{ResourceId: aws.String(id), Key: aws.String("Owner"), Value: aws.String(v)}
	}
	ec2c := fakeEC2Tags{[]ec2types.TagDescription{tag("i-0123abcd", mullerNFC), tag("i-11111111", mullerNFD)}}
	got := map[string]string{}
	err := audit.ReadTags(context.Background(), ec2c, (*ssm.Client)(nil), []string{"i-0123abcd", "i-11111111"}, []string{"Owner"},
		func(id string, labels map[string]string, escaped []string) {
			got[id] = labels["tag:Owner"]
			if len(escaped) > 0 {
				t.Errorf("%s: escaped %q, want none", id, escaped)
			}
		})
	if err != nil {
		t.Fatalf("ReadTags: %v", err)
	}
	for _, id := range []string{"i-0123abcd", "i-11111111"} {
		if got[id] != mullerNFC {
			t.Errorf("%s: tag:Owner %+q, want %+q", id, got[id], mullerNFC)
		}
	}
}
