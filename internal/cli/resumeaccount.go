package cli

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// checkRecordAccount guards a --resume of a record that names no account
// (written when the caller's account could not be learnt): its results
// cannot be told from another account's by their keys, and the instances
// left, asked of another account, would be recorded as not managed. It
// asks SSM about up to probeInstances instances the record audited; when
// these credentials' SSM knows none of them (InvalidInstanceId for each),
// the record is another account's, or its instances are all gone, and it
// is refused. Any other answer, or none, lets the resume go on: the audit
// meets the same and says so. account is the one these credentials belong
// to, "" when unknown.
func (j *job) checkRecordAccount(ctx context.Context, account string) error {
	rs, err := audit.OpenRecords(j.recordPath())
	if err != nil {
		return nil // Resume reads it again, and says what is wrong
	}
	var probes []audit.Result
	enough := errors.New("enough")
	err = rs.Each(func(r audit.Result) error {
		if r.AccountID == "" && r.Outcome.Audited() {
			probes = append(probes, r)
		}
		if len(probes) == probeInstances {
			return enough
		}
		return nil
	})
	rs.Close()
	if err != nil && err != enough || len(probes) == 0 {
		return nil
	}
	var unknown []string
	for _, p := range probes {
		region := cmp.Or(p.Region, j.conn.HomeRegion())
		client, err := j.conn.SSM(region)
		if err != nil {
			return nil
		}
		_, err = client.DescribeInstanceAssociationsStatus(ctx, &ssm.DescribeInstanceAssociationsStatusInput{
			InstanceId: aws.String(p.InstanceID), MaxResults: aws.Int32(1),
		})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != audit.CodeInvalidInstanceID {
			return nil // known here, or no telling
		}
		unknown = append(unknown, p.InstanceID+" ("+region+")")
	}
	whose := "these credentials' account"
	if account != "" {
		whose = "account " + account + ", whose credentials these are"
	}
	return usagef("--resume: the record in %s was written when its account could not be learnt, and none of the instances it audited that were asked again (%s) is a managed node of %s: "+
		"it is another account's record, or those instances are gone since. Resume with the credentials it was written with, or start anew with another --out",
		j.o.out, strings.Join(unknown, ", "), whose)
}

// probeInstances is how many audited instances checkRecordAccount asks
// about at most.
const probeInstances = 3
