package cli

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// checkRecordAccount guards a --resume of a record that names no account
// (written when the caller's account could not be learnt): its results
// cannot be told from another account's by their keys, and the instances
// left, asked of another account, would be recorded as not managed. It
// asks SSM about one instance the record audited; one that these
// credentials' SSM does not know (InvalidInstanceId) makes the record
// another account's, refused. Any other answer, or none, lets the resume
// go on: the audit meets the same and says so. account is the one these
// credentials belong to, "" when unknown.
func (j *job) checkRecordAccount(ctx context.Context, account string) error {
	rs, err := audit.OpenRecords(j.recordPath())
	if err != nil {
		return nil // Resume reads it again, and says what is wrong
	}
	var probe audit.Result
	found := errors.New("found")
	err = rs.Each(func(r audit.Result) error {
		if r.AccountID == "" && r.Outcome.Audited() {
			probe = r
			return found
		}
		return nil
	})
	rs.Close()
	if err != found {
		return nil
	}
	region := probe.Region
	if region == "" {
		region = j.conn.HomeRegion()
	}
	client, err := j.conn.SSM(region)
	if err != nil {
		return nil
	}
	_, err = client.DescribeInstanceAssociationsStatus(ctx, &ssm.DescribeInstanceAssociationsStatusInput{
		InstanceId: aws.String(probe.InstanceID), MaxResults: aws.Int32(1),
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != audit.CodeInvalidInstanceID {
		return nil
	}
	whose := "these credentials' account"
	if account != "" {
		whose = "account " + account + ", whose credentials these are"
	}
	return usagef("--resume: the record in %s was written when its account could not be learnt, and %s, which it audited in %s, is not a managed node of %s: it is another account's record. "+
		"Resume with the credentials it was written with, or start anew with another --out",
		j.o.out, probe.InstanceID, region, whose)
}
