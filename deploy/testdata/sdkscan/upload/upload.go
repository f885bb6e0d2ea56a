// Package upload uploads with a named KMS key and a canned ACL and assumes
// a role, through the SDK's helpers under other names.
package upload

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	creds "github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func put(ctx context.Context, c *s3.Client, s *sts.Client, key string) error {
	_ = creds.NewAssumeRoleProvider(s, "arn:aws:iam::111122223333:role/r")
	in := &tm.UploadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	in.SSEKMSKeyID = aws.String(key)
	in.ACL = "bucket-owner-full-control"
	_, err := tm.New(c).UploadObject(ctx, in)
	return err
}
