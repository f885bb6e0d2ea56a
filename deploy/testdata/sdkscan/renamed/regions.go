// Package renamed imports a service under another name.
package renamed

import (
	"context"

	ec2svc "github.com/aws/aws-sdk-go-v2/service/ec2"
	orgs "github.com/aws/aws-sdk-go-v2/service/organizations"
)

func instances(ctx context.Context, c *ec2svc.Client) error {
	_, err := c.DescribeInstances(ctx, &ec2svc.DescribeInstancesInput{})
	return err
}

func accounts(c *orgs.Client) *orgs.ListAccountsPaginator {
	return orgs.NewListAccountsPaginator(c, &orgs.ListAccountsInput{})
}
