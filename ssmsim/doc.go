// Package ssmsim is a simulated AWS Systems Manager (SSM) endpoint that
// serves DescribeInstanceAssociationsStatus and DescribeInstanceInformation
// for a generated or hand-built fleet, over real HTTP, with fault and load
// knobs.
//
// It knows SSM's wire protocol only and imports nothing from this module, so
// that it checks the auditor instead of mirroring it. The AWS SDK for Go v2
// and the AWS CLI talk to it unchanged: point the SDK's BaseEndpoint, or the
// CLI's --endpoint-url, at the URL that Server.Start returns.
//
// # Protocol
//
// Requests are POST / with X-Amz-Target "AmazonSSM.<Operation>",
// Content-Type application/x-amz-json-1.1, a JSON object body, and a SigV4
// Authorization header ("AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/
// ssm/aws4_request, SignedHeaders=...;host;..., Signature=<64 hex>") with an
// X-Amz-Date (or Date) header that agrees with the credential's date. The
// header's form is checked; the signature is not. Every answer has
// Content-Type application/x-amz-json-1.1 and an x-amzn-RequestId header.
// Timestamps are epoch seconds written the way AWS's Java front ends write a
// double (1.748865600123E9); members that are not set are left out.
//
// Errors are {"__type":CODE,"message":TEXT} ("Message" where SSM's model
// spells the member so) with these codes and HTTP statuses:
//
//	400 com.amazon.coral.service#MissingAuthenticationTokenException  no Authorization header
//	400 com.amazon.coral.service#IncompleteSignatureException         Authorization header incomplete
//	400 InvalidSignatureException         credential not scoped to ssm, dates disagree, bad signature form
//	400 UnrecognizedClientException, ExpiredTokenException, ...       access key refused (Options.DenyAccessKeys)
//	400 AccessDeniedException             access key denied, naming action and resource as IAM does
//	400 com.amazon.coral.service#UnknownOperationException            unknown X-Amz-Target or Content-Type (405 for
//	                                      a method other than POST, 404 for a path other than /)
//	400 com.amazon.coral.service#SerializationException               body not JSON, or a member of the wrong type
//	400 ValidationException               "1 validation error detected: Value '51' at 'maxResults' failed to satisfy
//	                                      constraint: Member must have value less than or equal to 50"
//	400 InvalidInstanceId                 "Instances [[i-...]] not in a valid state for account 123456789012"
//	400 InvalidNextToken                  a token forged, garbled, or issued for another request
//	400 InvalidFilterKey, InvalidInstanceInformationFilterValue      DescribeInstanceInformation filters
//	400 ThrottlingException               "Rate exceeded" (Faults.Rate)
//	500 InternalServerError               Faults.ErrorRate
//
// The AWS SDKs strip the "com.amazon.coral.service#" prefix, so
// smithy.APIError.ErrorCode() returns the bare code.
//
// DescribeInstanceAssociationsStatus takes InstanceId (required; the model's
// pattern), MaxResults (1 to 50; 50 when absent, as SSM does not document
// its default) and NextToken. DescribeInstanceInformation takes MaxResults (5
// to 50; 10 when absent), NextToken, and either Filters (keys InstanceIds,
// AgentVersion, PingStatus, PlatformTypes or PlatformType, ActivationIds,
// IamRole, ResourceType, AssociationStatus, SourceIds, SourceTypes, tag-key
// and tag:KEY; tag filters cannot be combined with the others) or the legacy
// InstanceInformationFilterList, never both. Filters AND together; the values
// of one filter OR. It lists managed instances only, in fleet order.
//
// NextTokens are opaque: base64 of an offset and an HMAC keyed by a
// per-server secret over the operation, the offset and the request's subject
// (the instance ID, or the filters). A token forged, garbled, or used with
// another instance or other filters is refused with InvalidNextToken.
//
// # Fleets
//
// NewFleet generates a fleet from a seed, deterministically and lazily: it
// stores only IDs, and derives any instance or association from (seed,
// index) on demand, so a fleet of 100,000 instances is built in a fraction
// of a second. Fleet.Add plants hand-made instances, with any text a test
// wants to see survive the trip. Fleet.Associations is the truth to compare
// a client's result with.
//
// # Faults and counters
//
// Faults (Options.Faults, Server.SetFaults) inject throttling by a
// server-side token bucket, HTTP 500s, dropped connections, malformed and
// wrongly typed bodies, and latency with jitter. Server.Stats counts calls
// by operation and by outcome, requests in flight and their peak, and pages
// served twice (Stats.DuplicatePages, Server.PageCounts), so that a test can
// check that a client never refetched a page it already had.
package ssmsim
