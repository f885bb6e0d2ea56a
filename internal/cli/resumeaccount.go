package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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
// meets the same and says so. A record that audited none (its results are
// not_managed or error) is refused unless SSM knows one of its instances
// in error (see confirmUnaudited). account is the one these credentials
// belong to, "" when unknown.
//
// It guards alike a record whose results name the account j.presumed,
// taken as these credentials' when STS did not say whose they are: an
// instance of the record that SSM knows for them is that account's.
func (j *job) checkRecordAccount(ctx context.Context, account string) error {
	rs, err := openRecords(j.o.out, j.recordPath())
	if err != nil {
		return nil // Resume reads it again, and says what is wrong
	}
	var probes, failed []audit.Result
	notManaged := 0
	enough := errors.New("enough")
	err = rs.Each(func(r audit.Result) error {
		switch {
		case r.AccountID != j.presumed || r.Outcome == audit.OutcomeInvalid:
		case r.Outcome.Audited():
			probes = append(probes, r)
		case r.Outcome == audit.OutcomeError:
			if len(failed) < probeInstances {
				failed = append(failed, r)
			}
		default:
			notManaged++
		}
		if len(probes) == probeInstances {
			return enough
		}
		return nil
	})
	rs.Close()
	if err != nil && err != enough {
		return nil
	}
	whose := "these credentials' account"
	if account != "" {
		whose = "account " + account + ", whose credentials these are"
	}
	if len(probes) == 0 {
		if len(failed) == 0 && notManaged == 0 {
			return nil
		}
		return j.confirmUnaudited(ctx, failed, notManaged, whose)
	}
	var unknown []string
	for _, p := range probes {
		known, region, err := j.probe(ctx, p)
		if err != nil || known {
			return nil // known here, or no telling
		}
		unknown = append(unknown, p.InstanceID+" ("+region+")")
	}
	if j.presumed != "" {
		return usagef("--resume: the record in %s names account %s, but STS could not say which account these credentials belong to (%s), and none of the instances the record audited that were asked again (%s) is a managed node of %s: "+
			"it is another account's record, or those instances are gone since. Resume with account %s's credentials once STS answers, or start anew with another --out",
			j.o.out, j.presumed, plain(j.callerErr.Error(), 0), strings.Join(unknown, ", "), whose, j.presumed)
	}
	return usagef("--resume: the record in %s was written when its account could not be learnt, and none of the instances it audited that were asked again (%s) is a managed node of %s: "+
		"it is another account's record, or those instances are gone since. Resume with the credentials it was written with, or start anew with another --out",
		j.o.out, strings.Join(unknown, ", "), whose)
}

// confirmUnaudited lets the resume of a record that names no account and
// audited no instance go on only when these credentials' SSM manages one
// of its instances in error (up to probeInstances of them are asked): an
// instance managed here was this account's. Its not_managed results tell
// nothing: SSM says the same of an instance it does not manage in any
// account, so they are never asked again. Anything else is refused, since
// a resume with another account's credentials would add that account's
// results to the record; those it holds are soon had again by a new run.
// So is a record whose results name the account j.presumed, until STS
// says whose these credentials are.
func (j *job) confirmUnaudited(ctx context.Context, failed []audit.Result, notManaged int, whose string) error {
	var asked []string
	for _, p := range failed {
		known, region, err := j.probe(ctx, p)
		if err == nil && known {
			return nil
		}
		if err != nil && pastDeadline(ctx) {
			return err // stopped asking (--timeout, a signal): no answer
		}
		asked = append(asked, p.InstanceID+" ("+region+")")
	}
	var held []string
	if notManaged > 0 {
		held = append(held, fmt.Sprintf("%d not_managed, which SSM says of an instance it does not manage in any account", notManaged))
	}
	if len(failed) > 0 {
		held = append(held, fmt.Sprintf("in error, none of which asked again (%s) could be confirmed as a managed node of %s", strings.Join(asked, ", "), whose))
	}
	if j.presumed != "" {
		// Not "start anew": STS, once it answers, tells.
		return usagef("--resume: the record in %s names account %s, but STS could not say which account these credentials belong to (%s), and none of the record's results shows they are that account's (%s): "+
			"resumed with another account's credentials, it would hold two accounts' results under one. Resume once STS answers",
			j.o.out, j.presumed, plain(j.callerErr.Error(), 0), strings.Join(held, "; "))
	}
	return usagef("--resume: the record in %s was written when its account could not be learnt, and none of its results tells whose it is (%s): "+
		"resumed with another account's credentials, it would hold two accounts' results under one. It holds no verdict: start anew with another --out",
		j.o.out, strings.Join(held, "; "))
}

// probe asks SSM about the instance of a result in its region (the run's
// home region when it names none): known is whether these credentials'
// SSM manages it. err is any answer other than yes or InvalidInstanceId.
func (j *job) probe(ctx context.Context, r audit.Result) (known bool, region string, err error) {
	region = cmp.Or(r.Region, j.conn.HomeRegion())
	client, err := j.conn.SSM(region)
	if err != nil {
		return false, region, err
	}
	_, err = client.DescribeInstanceAssociationsStatus(ctx, &ssm.DescribeInstanceAssociationsStatusInput{
		InstanceId: aws.String(r.InstanceID), MaxResults: aws.Int32(1),
	})
	var ae smithy.APIError
	switch {
	case err == nil:
		return true, region, nil
	case errors.As(err, &ae) && ae.ErrorCode() == audit.CodeInvalidInstanceID:
		return false, region, nil
	}
	return false, region, err
}

// probeInstances is how many audited instances checkRecordAccount asks
// about at most.
const probeInstances = 3
