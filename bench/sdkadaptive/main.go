// Command sdkadaptive audits instances the way a Go program does with the
// SDK's own adaptive retry mode (retry.NewAdaptiveMode) and no limiter of
// the auditor's: N workers share one client, every page with the SDK's
// paginator. It is the SDK peer of "auditor run" in bench/limiter.sh.
//
// The retry settings are the auditor's, so that only the pacing differs:
// at most -max-attempts attempts (8) and no retry quota (the auditor turns
// it off too, see awsconn.NewRetryer); the HTTP client is built as the
// auditor's is (awsconn's httpClient): idle connections for every worker and
// a timeout per attempt.
//
//	sdkadaptive -endpoint-url URL -concurrency 16 [-max-seconds S] IDS-FILE
//
// It prints "instances N seconds S failed F" on stdout: N the instances
// audited (after -max-seconds no new one is started), S from the first call
// to the last answer, F the instances that ended in an error other than
// InvalidInstanceId (not managed).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

func main() {
	endpoint := flag.String("endpoint-url", "", "SSM endpoint `URL`")
	region := flag.String("region", "us-east-1", "AWS region")
	conc := flag.Int("concurrency", 16, "workers")
	attempts := flag.Int("max-attempts", 8, "attempts per call")
	maxSeconds := flag.Float64("max-seconds", 0, "start no instance after this many seconds (0: no limit)")
	flag.Parse()
	if *endpoint == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sdkadaptive -endpoint-url URL [-region R] [-concurrency C] [-max-attempts N] IDS-FILE")
		os.Exit(2)
	}
	if err := run(*endpoint, *region, *conc, *attempts, *maxSeconds, flag.Arg(0)); err != nil {
		fmt.Fprintf(os.Stderr, "sdkadaptive: %v\n", err)
		os.Exit(1)
	}
}

func readIDs(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, sc.Err()
}

func run(endpoint, region string, conc, attempts int, maxSeconds float64, file string) error {
	ids, err := readIDs(file)
	if err != nil {
		return err
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return err
	}
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(30 * time.Second).WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(conc*2, t.MaxIdleConnsPerHost)
		t.MaxIdleConns = max(t.MaxIdleConns, conc*4)
	})
	cfg.Retryer = func() aws.Retryer {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.RateLimiter = ratelimit.None
			})
		})
	}
	c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(endpoint) })
	var next, done, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(time.Duration(maxSeconds * float64(time.Second)))
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if maxSeconds > 0 && time.Now().After(deadline) {
					return
				}
				i := next.Add(1) - 1
				if i >= int64(len(ids)) {
					return
				}
				done.Add(1)
				p := ssm.NewDescribeInstanceAssociationsStatusPaginator(c, &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(ids[i])})
				for p.HasMorePages() {
					if _, err := p.NextPage(ctx); err != nil {
						var ae smithy.APIError
						if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInstanceId" {
							failed.Add(1)
						}
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("instances %d seconds %.3f failed %d\n", done.Load(), time.Since(start).Seconds(), failed.Load())
	return nil
}
