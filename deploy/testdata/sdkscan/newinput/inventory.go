// Package newinput makes an input with new instead of a literal.
package newinput

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func inventory(ctx context.Context, c *ssm.Client) error {
	in := new(ssm.GetInventoryInput)
	var next ssm.ListDocumentsInput
	_, err := c.GetInventory(ctx, in)
	_, _ = c.ListDocuments(ctx, &next)
	return err
}
