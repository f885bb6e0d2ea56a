// Package paceboard is outside the packages that used to be scanned.
package paceboard

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func commands(ctx context.Context, c *ssm.Client) {
	p := ssm.NewListCommandsPaginator(c, &ssm.ListCommandsInput{})
	for p.HasMorePages() {
		if _, err := p.NextPage(ctx); err != nil {
			return
		}
	}
}
