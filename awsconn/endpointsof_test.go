package awsconn

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestCheckEndpointsOfAsTheSDKFindsThem: CheckEndpointsOf refuses a
// service's configured endpoint exactly when that service's client would
// use it. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS and a profile's
// ignore_configured_endpoint_urls are taken as the SDK takes them, the
// first that says either way: with the variable false and the profile
// true, the SDK used AWS_ENDPOINT_URL_STS and the check was skipped, so a
// login in it reached stderr whole.
func TestCheckEndpointsOfAsTheSDKFindsThem(t *testing.T) {
	for _, env := range []string{"", "false", "true"} {
		for _, profile := range []string{"", "false", "true"} {
			t.Run(fmt.Sprintf("env %q profile %q", env, profile), func(t *testing.T) {
				config := "[default]\nregion = us-east-1\n"
				if profile != "" {
					config += "ignore_configured_endpoint_urls = " + profile + "\n"
				}
				isolate(t, config)
				t.Setenv("AWS_ACCESS_KEY_ID", "AKIATESTTESTTESTTEST")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
				t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", env)
				t.Setenv("AWS_ENDPOINT_URL_STS", "https://AKIAEXAMPLE:ab/Secret9@127.0.0.1:1")
				c, err := Load(context.Background(), Settings{Region: "us-east-1", MaxAttempts: 1})
				if err != nil {
					t.Fatal(err)
				}
				used := sts.NewFromConfig(c.Config()).Options().BaseEndpoint != nil
				err = c.CheckEndpointsOf("STS")
				if used != (err != nil) {
					t.Errorf("the STS client uses the configured endpoint: %v; CheckEndpointsOf = %v", used, err)
				}
			})
		}
	}
}
