package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// loadAWS loads the AWS configuration the way every AWS tool does
// (environment, shared config and credentials files, SSO, container and
// instance roles), with --profile and --region on top, and proves that
// credentials can be had before the first call.
func (o *runOptions) loadAWS(ctx context.Context) (aws.Config, error) {
	retryer := audit.NewRetryer(o.maxAttempts)
	if o.credentials != nil {
		// The demo: fixed credentials and region, and nothing from this
		// machine's AWS configuration, which must not change what it does.
		return aws.Config{
			Region:      o.region,
			Credentials: aws.NewCredentialsCache(o.credentials),
			Retryer:     retryer,
			HTTPClient:  audit.NewHTTPClient(nil, o.callTimeout, o.concurrency),
			AppID:       "auditor",
		}, nil
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(retryer),
		config.WithAppID("auditor"),
	}
	if o.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.profile))
	}
	if o.region != "" {
		opts = append(opts, config.WithRegion(o.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("%w: loading AWS configuration: %v", audit.ErrFatal, err)
	}
	// On the client the loader built, which carries any custom CA bundle
	// (AWS_CA_BUNDLE, ca_bundle) and proxy settings.
	cfg.HTTPClient = audit.NewHTTPClient(cfg.HTTPClient, o.callTimeout, o.concurrency)
	if o.endpointURL == "" && cfg.BaseEndpoint != nil {
		// AWS_ENDPOINT_URL and endpoint_url in the profile count like the
		// flag, and face the same check.
		if err := checkEndpoint(*cfg.BaseEndpoint, o.allowInsecure); err != nil {
			return cfg, usagef("endpoint from the AWS configuration: %v", err)
		}
	}
	if cfg.Credentials == nil {
		return cfg, fmt.Errorf("%w: no AWS credentials found; configure them as for the AWS CLI (aws configure, AWS_PROFILE or --profile, aws sso login), then run again", audit.ErrFatal)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return cfg, fmt.Errorf("%w: no usable AWS credentials: %v\nconfigure them as for the AWS CLI (aws configure, AWS_PROFILE or --profile, aws sso login), then run again", audit.ErrFatal, err)
	}
	return cfg, nil
}

// clients returns the per-region SSM client factory for audit.Run.
func (o *runOptions) clients(cfg aws.Config) func(region string) (audit.API, error) {
	return func(region string) (audit.API, error) {
		return ssm.NewFromConfig(cfg, func(so *ssm.Options) {
			so.Region = region
			if o.endpointURL != "" {
				so.BaseEndpoint = aws.String(o.endpointURL)
			}
		}), nil
	}
}

// checkEndpoint refuses an endpoint that would send signed requests across a
// network in clear: http:// is fine on this machine only.
func checkEndpoint(raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL such as https://ssm.eu-west-1.amazonaws.com", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowInsecure || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q is plain http to another machine: signed requests would cross the network in clear; use https, or pass --allow-insecure-endpoint", raw)
	}
	return fmt.Errorf("%q: want an http or https URL", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeJSON writes v, indented, to path through a temporary file.
func writeJSON(path string, v any) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
