package awsconn_test

import (
	"testing"

	"github.com/auditor-dev/auditor/awsconn"
)

// TestRolesForPartition: a role ARN of another partition than the
// caller's is given back in the caller's; one of the caller's, a role
// named by --role-name, an ARN that is none, and a partition that is not a
// partition's name give "".
func TestRolesForPartition(t *testing.T) {
	tests := []struct {
		name      string
		roles     awsconn.Roles
		partition string
		want      string
	}{
		{"aws in aws-cn", awsconn.Roles{ARN: "arn:aws:iam::{account}:role/AuditRole"}, "aws-cn", "arn:aws-cn:iam::{account}:role/AuditRole"},
		{"aws-cn in aws", awsconn.Roles{ARN: "arn:aws-cn:iam::{account}:role/a/b/AuditRole"}, "aws", "arn:aws:iam::{account}:role/a/b/AuditRole"},
		{"aws in aws-us-gov", awsconn.Roles{ARN: "arn:aws:iam::{account}:role/AuditRole"}, "aws-us-gov", "arn:aws-us-gov:iam::{account}:role/AuditRole"},
		{"the caller's partition", awsconn.Roles{ARN: "arn:aws-cn:iam::{account}:role/AuditRole"}, "aws-cn", ""},
		{"a role name", awsconn.Roles{Name: "AuditRole"}, "aws-cn", ""},
		{"not an ARN", awsconn.Roles{ARN: "AuditRole-{account}"}, "aws-cn", ""},
		{"no partition known", awsconn.Roles{ARN: "arn:aws:iam::{account}:role/AuditRole"}, "", ""},
		{"a partition that is no name", awsconn.Roles{ARN: "arn:aws:iam::{account}:role/AuditRole"}, "aws\x1b[31m", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.roles.ForPartition(tt.partition); got != tt.want {
				t.Errorf("ForPartition(%q) = %q, want %q", tt.partition, got, tt.want)
			}
		})
	}
}
