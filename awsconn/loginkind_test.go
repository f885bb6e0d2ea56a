package awsconn

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// loginSource fails as an aws login session (login_session) does.
type loginSource struct{ err error }

func (f loginSource) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, f.err
}
func (loginSource) ProviderSources() []aws.CredentialSource {
	return []aws.CredentialSource{aws.CredentialSourceProfileLogin, aws.CredentialSourceLogin}
}

// TestLoginSessionKinds: only what the SDK says a new login mends
// ("please reauthenticate": a session expired, never cached, or whose
// password changed) is told to run aws login; an identity without the
// permission to make its token, or a cache that cannot be written, is
// told as what it is.
func TestLoginSessionKinds(t *testing.T) {
	for _, tc := range []struct {
		err      error
		want     []string
		dontWant []string
	}{
		{errors.New("login session has expired, please reauthenticate"), []string{"run aws login --profile console"}, nil},
		{errors.New("token file not found, please reauthenticate"), []string{"run aws login --profile console"}, nil},
		{fmt.Errorf("create oauth2 token: %w", errors.New("insufficient permissions, you may be missing permissions for the CreateOAuth2Token action")),
			[]string{"CreateOAuth2Token"}, []string{"run aws login"}},
		{fmt.Errorf("save token: %w", errors.New("open /home/u/.aws/login/cache/x.json: read-only file system")),
			nil, []string{"run aws login"}},
	} {
		g := &guarded{inner: loginSource{tc.err}, profile: "console"}
		_, err := g.Retrieve(context.Background())
		if err == nil {
			t.Fatalf("%v: no error", tc.err)
		}
		saysOnly(t, err.Error(), append([]string{"an aws login session", "profile console"}, tc.want...), tc.dontWant)
	}
}
