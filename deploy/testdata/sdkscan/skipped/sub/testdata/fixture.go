package skipped

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func probe(ctx context.Context, c *ssm.Client) {
	_, _ = c.StartSession(ctx, &ssm.StartSessionInput{})
}
