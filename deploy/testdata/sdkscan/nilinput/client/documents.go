package client

import "context"

func (c Client) document(ctx context.Context) error {
	_, err := c.api.DescribeDocument(ctx, nil)
	// Not an operation of any service imported here.
	c.Render(ctx, nil)
	return err
}

func (Client) Render(context.Context, any) {}
