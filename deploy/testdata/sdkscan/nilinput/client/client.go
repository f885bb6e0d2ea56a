// Package client calls operations with a nil input, one of them from a
// file that does not import the service.
package client

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

type Client struct{ api *ssm.Client }

func (c Client) associations(ctx context.Context) error {
	_, err := c.api.ListAssociations(ctx, nil)
	return err
}
