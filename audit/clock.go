package audit

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// clockCodes are the codes with which AWS services refuse a request signed
// at a time too far from theirs: those of the SDKs' Clock Skew Correction
// and EC2's RequestExpired, which the Go SDK does not correct (its
// DescribeTags and DescribeRegions fail on a clock that is off where SSM's
// and STS's calls are corrected). Each may also mean something else
// (expired credentials, a bad signature), so ClockOff takes them as the
// clock's only when the answer's time says so.
var clockCodes = map[string]bool{
	"InvalidSignatureException": true,
	"SignatureDoesNotMatch":     true,
	"AuthFailure":               true,
	"RequestTimeTooSkewed":      true,
	"RequestInTheFuture":        true,
	"RequestExpired":            true,
}

// clockTolerance is how far apart a request's signing time and its
// answer's Date may be without the clock being blamed: the SDKs' own
// threshold (4 minutes), under the 5 minutes the strictest services allow.
const clockTolerance = 4 * time.Minute

// ClockOff reports, when err is a service's refusal of a request as signed
// at a time too far from its own, how far the service's clock was ahead of
// the signing time (behind, if negative): the answer's Date header less
// the request's X-Amz-Date. Both are of the one attempt, so the measure
// holds however long after it is read. ok is false for any other error,
// when the two times are within clockTolerance, and for an answer with
// an Age header (a cache's, as the SDK's own correction takes it).
func ClockOff(err error) (off time.Duration, ok bool) {
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &ae) || !clockCodes[ae.ErrorCode()] || !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil || re.Response.Request == nil {
		return 0, false
	}
	if re.Response.Header.Get("Age") != "" {
		// From a cache on the way: its Date is not the service's now.
		return 0, false
	}
	answered, perr := http.ParseTime(re.Response.Header.Get("Date"))
	if perr != nil {
		return 0, false
	}
	signed, perr := time.Parse("20060102T150405Z", re.Response.Request.Header.Get("X-Amz-Date"))
	if perr != nil {
		return 0, false
	}
	off = answered.Sub(signed)
	if off.Abs() <= clockTolerance {
		return 0, false
	}
	return off, true
}

// ClockHint is what to say of a clock off by off (see ClockOff): by how
// much, which way, and what to do.
func ClockHint(off time.Duration) string {
	way := "behind"
	if off < 0 {
		way = "ahead of"
	}
	return fmt.Sprintf("this machine's clock is %s %s AWS's (by the Date of the service's refusal): set the clock right (NTP: chrony or systemd-timesyncd), then run again",
		roughly(off.Abs()), way)
}

// StaleSkewHint is what to say when the answers of a run whose
// staleness check was on (--stale-after age) were dated off from this
// machine's clock (AWS's clock less this machine's), past clockTolerance:
// the services' dates were compared with a cut-off taken from this
// machine's clock, so associations were judged stale by as much too early
// or too late. It is "" within the tolerance.
func StaleSkewHint(off time.Duration, age string) string {
	if off.Abs() <= clockTolerance {
		return ""
	}
	way := "behind"
	if off < 0 {
		way = "ahead of"
	}
	return fmt.Sprintf("this machine's clock is %s %s AWS's (by the Date of the service's answers): the stale check (--stale-after %s) measured the services' dates from this machine's clock, so which associations are stale is %s off; set the clock right (NTP: chrony or systemd-timesyncd), then run again",
		roughly(off.Abs()), way, age, roughly(off.Abs()))
}

// roughly is d in whole minutes, hours from 90 minutes, days from 36 hours.
func roughly(d time.Duration) string {
	switch {
	case d >= 36*time.Hour:
		return plural(int64((d+12*time.Hour)/(24*time.Hour)), "day")
	case d >= 90*time.Minute:
		return plural(int64((d+30*time.Minute)/time.Hour), "hour")
	default:
		return plural(int64((d+30*time.Second)/time.Minute), "minute")
	}
}
