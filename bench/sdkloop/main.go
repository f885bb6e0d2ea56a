// Command sdkloop audits instances the way a script on the AWS SDK for Go
// does it: one instance after another, every page with the SDK's paginator,
// the default configuration (config.LoadDefaultConfig: default retryer and
// HTTP client). It is the baseline that bench/fetch.sh times "auditor run"
// against.
//
//	sdkloop -endpoint-url URL -region us-east-1 -n 200 IDS-FILE
//
// It prints "instances N seconds S" on stdout.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

func main() {
	endpoint := flag.String("endpoint-url", "", "SSM endpoint `URL`")
	region := flag.String("region", "us-east-1", "AWS region")
	n := flag.Int("n", 200, "audit the first `N` IDs of the file")
	flag.Parse()
	if *endpoint == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sdkloop -endpoint-url URL [-region R] [-n N] IDS-FILE")
		os.Exit(2)
	}
	if err := run(*endpoint, *region, *n, flag.Arg(0)); err != nil {
		fmt.Fprintf(os.Stderr, "sdkloop: %v\n", err)
		os.Exit(1)
	}
}

func run(endpoint, region string, n int, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(ids) < n {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	ctx := context.Background()
	start := time.Now()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return err
	}
	c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(endpoint) })
	for _, id := range ids {
		p := ssm.NewDescribeInstanceAssociationsStatusPaginator(c, &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)})
		for p.HasMorePages() {
			if _, err := p.NextPage(ctx); err != nil {
				var ae smithy.APIError
				if errors.As(err, &ae) && ae.ErrorCode() == "InvalidInstanceId" {
					break
				}
				return fmt.Errorf("%s: %w", id, err)
			}
		}
	}
	fmt.Printf("instances %d seconds %.3f\n", len(ids), time.Since(start).Seconds())
	return nil
}
