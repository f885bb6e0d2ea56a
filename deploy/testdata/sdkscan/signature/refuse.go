// Package signature names inputs in signatures only: a method that
// refuses an operation calls nothing.
package signature

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type API interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

type refuse struct{}

func (refuse) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, errors.New("not used")
}
