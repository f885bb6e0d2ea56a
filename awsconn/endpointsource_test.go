package awsconn

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestEndpointSourceAsTheSDKChoosesIt: the setting named as the one that
// gave a service its endpoint is the one the SDK took it from. The SDK
// lets AWS_ENDPOINT_URL (set at all, even empty) win over the profile's
// services section unless AWS_ENDPOINT_URL_<SERVICE> is set too; the
// auditor took the services section first, so that with both it named
// the services section for AWS_ENDPOINT_URL's endpoint, with
// AWS_ENDPOINT_URL= it named the services section for the profile's
// endpoint_url, and a login in AWS_ENDPOINT_URL was refused naming no
// setting. Each case's endpoint is the one the SDK's own clients resolve.
func TestEndpointSourceAsTheSDKChoosesIt(t *testing.T) {
	const config = "[profile p]\nregion = us-east-1\nservices = svc\nendpoint_url = http://127.0.0.1:3\n\n" +
		"[services svc]\nssm =\n  endpoint_url = http://127.0.0.1:2\n\n" +
		"[profile ignoring]\nregion = us-east-1\nservices = svc\nendpoint_url = http://127.0.0.1:3\nignore_configured_endpoint_urls = true\n\n" +
		"[profile plain]\nregion = us-east-1\n"
	const (
		services = "the ssm endpoint_url of [services svc] (profile p)"
		profile  = "the endpoint_url of profile p"
	)
	tests := []struct {
		name    string
		profile string
		// env sets these variables; the others of the endpoint are unset
		// (not empty: the SDK tells the two apart).
		env  map[string]string
		want string // the setting named for SSM; "" for none
	}{
		{name: "services section", profile: "p", want: services},
		{name: "AWS_ENDPOINT_URL over the services section", profile: "p",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4"}, want: "AWS_ENDPOINT_URL"},
		{name: "AWS_ENDPOINT_URL empty: the profile's endpoint_url", profile: "p",
			env: map[string]string{"AWS_ENDPOINT_URL": ""}, want: profile},
		{name: "AWS_ENDPOINT_URL_SSM over all", profile: "p",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:5"}, want: "AWS_ENDPOINT_URL_SSM"},
		{name: "AWS_ENDPOINT_URL_SSM alone", profile: "p",
			env: map[string]string{"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:5"}, want: "AWS_ENDPOINT_URL_SSM"},
		{name: "AWS_ENDPOINT_URL_SSM empty lets the services section in", profile: "p",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4", "AWS_ENDPOINT_URL_SSM": ""}, want: services},
		{name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", profile: "p",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}},
		{name: "the profile's ignore_configured_endpoint_urls", profile: "ignoring",
			env: map[string]string{"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:5"}},
		{name: "AWS_ENDPOINT_URL, no services section", profile: "plain",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4"}, want: "AWS_ENDPOINT_URL"},
		{name: "none", profile: "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t, config)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIATESTTESTTESTTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv("AWS_PROFILE", tt.profile)
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Load(context.Background(), Settings{MaxAttempts: 1, AllowInsecure: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"SSM", "STS"} {
				var sdk *string
				if id == "SSM" {
					sdk = ssm.NewFromConfig(c.Config()).Options().BaseEndpoint
				} else {
					sdk = sts.NewFromConfig(c.Config()).Options().BaseEndpoint
				}
				raw, setting := c.configuredEndpoint(id)
				if raw != aws.ToString(sdk) || (setting == "") != (sdk == nil) {
					t.Errorf("%s: configuredEndpoint = %q, %q; the SDK's client uses %q", id, raw, setting, aws.ToString(sdk))
				}
			}
			if got := c.EndpointSource("SSM"); got != tt.want {
				t.Errorf("EndpointSource(SSM) = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRefusedEndpointNamesAWSEndpointURL: a login in AWS_ENDPOINT_URL,
// with a profile whose services section names SSM's endpoint, was refused
// naming no setting: the setting was looked for in the services section,
// which the SDK had passed over.
func TestRefusedEndpointNamesAWSEndpointURL(t *testing.T) {
	isolate(t, "[profile p]\nregion = us-east-1\nservices = svc\nendpoint_url = http://127.0.0.1:3\n\n"+
		"[services svc]\nssm =\n  endpoint_url = http://127.0.0.1:2\n")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_PROFILE", "p")
	t.Setenv("AWS_ENDPOINT_URL_SSM", "")
	os.Unsetenv("AWS_ENDPOINT_URL_SSM")
	t.Setenv("AWS_ENDPOINT_URL", "https://u:p@127.0.0.1:9")
	c, err := Load(context.Background(), Settings{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SSM("us-east-1")
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL: ") {
		t.Errorf("SSM() = %v, want a *ConfigError naming AWS_ENDPOINT_URL", err)
	}
	if err := c.CheckEndpointsOf("SSM"); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL: ") {
		t.Errorf("CheckEndpointsOf(SSM) = %v, want an error naming AWS_ENDPOINT_URL", err)
	}
}
