// Package deploy holds the Kubernetes and AWS Batch manifests; its test checks them.
package deploy
