// Package ssmsim is a simulated AWS Systems Manager (SSM) endpoint that
// serves DescribeInstanceAssociationsStatus and DescribeInstanceInformation
// for a generated or hand-built fleet, over real HTTP, with fault and load
// knobs; and, in the same endpoint, an AWS Organization of several accounts
// and regions with the STS, Organizations and EC2 operations that reach it.
//
// It knows the services' wire protocols only and imports nothing from this
// module, so that it checks the auditor instead of mirroring it. The AWS SDK
// for Go v2 and the AWS CLI talk to it unchanged: point the SDK's
// BaseEndpoint (of every client: ssm, sts, organizations, ec2), or the CLI's
// --endpoint-url, at the URL that Server.Start returns.
//
// # Protocol
//
// Requests are POST / with X-Amz-Target "AmazonSSM.<Operation>",
// Content-Type application/x-amz-json-1.1, a JSON object body, and a SigV4
// Authorization header ("AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/
// ssm/aws4_request, SignedHeaders=...;host;..., Signature=<64 hex>") with an
// X-Amz-Date (or Date) header that agrees with the credential's date and is
// within 5 minutes of the server's clock (Options.ClockSkew sets it off
// this machine's). The header's form is checked; the signature is not.
// Every answer has Content-Type application/x-amz-json-1.1, an
// x-amzn-RequestId header, and a Date header by the server's clock.
// Timestamps are epoch seconds written the way AWS's Java front ends write a
// double (1.748865600123E9); members that are not set are left out.
//
// Errors are {"__type":CODE,"message":TEXT} ("Message" where SSM's model
// spells the member so) with these codes and HTTP statuses:
//
//	400 com.amazon.coral.service#MissingAuthenticationTokenException  no Authorization header
//	400 com.amazon.coral.service#IncompleteSignatureException         Authorization header incomplete
//	400 InvalidSignatureException         credential not scoped to ssm, dates disagree, bad signature form,
//	                                      signed more than 5 minutes off ("Signature expired: ...")
//	400 UnrecognizedClientException, ExpiredTokenException, ...       access key refused (Options.DenyAccessKeys)
//	400 AccessDeniedException             access key denied, naming action and resource as IAM does; or an
//	                                      action a member account's service control policy denies (Account.Deny)
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
// and tag:KEY; tag filters cannot be combined with the others, and a tag:KEY
// takes at most 5 values, ValidationException "The number of tag values for
// tag:Name was 6. Max: 5." past them; ResourceType takes one value,
// InvalidInstanceInformationFilterValue "ResourceType filter may contain
// only one value." past it, in either list) or the legacy
// InstanceInformationFilterList, never both. Filters AND together; the values
// of one filter OR. It lists managed instances only, in fleet order.
//
// NextTokens are opaque: base64 of an offset and an HMAC keyed by a
// per-server secret over the operation, the offset and the request's subject
// (the instance ID, or the filters). A token forged, garbled, or used with
// another instance or other filters is refused with InvalidNextToken.
//
// # Organisations
//
// NewServer(fleet, opts) serves one account (Options.AccountID) that
// answers to any access key, in any region, from the one fleet, as it
// always has; it also answers STS GetCallerIdentity (the account, and
// arn:aws:iam::ACCOUNT:user/KEY), AssumeRole (AccessDenied: it has no
// roles), ListAccounts (AWSOrganizationsNotInUseException: a standalone
// account) and DescribeRegions (DefaultRegions).
//
// NewServer(nil, Options{Org: org}) serves an organisation built by
// NewOrg(OrgConfig{...}): accounts (the first is the management account)
// with names, emails, states (ACTIVE, SUSPENDED, CLOSED, ...), their enabled
// regions (every region that needs no opt-in, and the opt-in regions in
// Account.OptedIn), roles, static access keys, and a deterministic fleet per
// account-region, instance IDs distinct across the organisation
// (Org.Fleet, Org.FleetRegions). A request's account comes from its access
// key: a static key belongs to the account that lists it (or to the
// management account, unless OrgConfig.StrictKeys), a temporary key to the
// role it was issued for; its region comes from the credential scope.
//
//   - SSM answers from the fleet of the request's account-region. An
//     instance of another account or region is InvalidInstanceId there,
//     naming the caller's account, as in AWS. NextTokens of
//     DescribeInstanceInformation open only in the account-region that
//     issued them.
//   - A region that the account has not enabled (or that the partition
//     does not have) refuses the key, as AWS does: SSM with
//     UnrecognizedClientException, STS with InvalidClientTokenId (403), EC2
//     with AuthFailure (401). Organizations is global: any region will do.
//     AssumeRole of a role whose account has not enabled the region is
//     RegionDisabledException (403), as AWS documents it, even when the
//     caller's account has.
//   - STS (the awsQuery protocol: POST form Action=...&Version=2011-06-15,
//     Content-Type application/x-www-form-urlencoded; XML answers with
//     Content-Type text/xml). GetCallerIdentity answers for static keys
//     (arn:aws:iam::ACCOUNT:user/KEY, UserId AIDA...) and assumed-role
//     sessions (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, UserId
//     AROA...:SESSION). AssumeRole takes RoleArn (arn:PARTITION:iam::
//     ACCOUNT:role/[PATH/]NAME), RoleSessionName, ExternalId and
//     DurationSeconds (900 to 43200, 3600 when absent), validated with
//     STS's ValidationError messages ("1 validation error detected: Value
//     '899' at 'durationSeconds' failed to satisfy constraint: Member must
//     have value greater than or equal to 900"; "The requested
//     DurationSeconds exceeds the MaxSessionDuration set for this role.";
//     role chaining limited to an hour). A role that does not exist, does not
//     trust the caller (Role.Trusted; the management account by default),
//     refuses (Role.Refuse), wants another external ID (Role.ExternalID),
//     or is in an account whose State is not ACTIVE or in another partition
//     is AccessDenied (403) with IAM's message: "User: CALLER-ARN is not
//     authorized to perform: sts:AssumeRole on resource: ROLE-ARN". It
//     returns AccessKeyId ASIA..., SecretAccessKey, SessionToken and
//     Expiration; the key works only with its X-Amz-Security-Token (else
//     the service's invalid-token answer) and only until Expiration, after
//     which SSM and Organizations answer ExpiredTokenException (400), STS
//     ExpiredToken (403) and EC2 RequestExpired (400).
//     Role.SessionLifetime shortens sessions to less than STS's minimum of
//     15 minutes, so that a test can watch credentials refresh (AWS has no
//     such setting).
//   - Organizations ListAccounts (awsJson1_1, X-Amz-Target
//     AWSOrganizationsV20161128.ListAccounts): Id, Arn, Email, Name, State,
//     JoinedMethod, JoinedTimestamp of every account, in the
//     organisation's order (Status, which Organizations retired on
//     September 9, 2026, only when Options.AccountFields asks for it:
//     beside State, or instead of it as before State existed); MaxResults 1
//     to 20 (20 when absent, as AWS does not document its default),
//     NextToken. Only the management account may
//     call it: members get AccessDeniedException "You don't have
//     permissions to access this resource.", and an account outside an
//     organisation (OrgConfig.NotInOrganization) AWSOrganizationsNotInUseException.
//     MaxResults outside 1 to 20 and a bad NextToken are
//     InvalidInputException with Reason MAX_VALUE_EXCEEDED,
//     MIN_VALUE_EXCEEDED or INVALID_NEXT_TOKEN, as Organizations documents
//     its input errors (which of ValidationException and
//     InvalidInputException AWS sends for MaxResults is a guess).
//   - EC2 DescribeRegions (the EC2 query protocol: POST form
//     Action=DescribeRegions&Version=2016-11-15; XML DescribeRegionsResponse
//     with regionInfo/item: regionName, optInStatus, regionEndpoint): the
//     account's enabled regions, or every region with AllRegions=true
//     (opt-in-not-required, opted-in, not-opted-in); RegionName.N; filters
//     region-name, endpoint and opt-in-status; DryRun. EC2's errors are
//     <Response><Errors><Error><Code>..</Code><Message>..</Message></Error>
//     </Errors><RequestID>..</RequestID></Response>.
//   - EC2 DescribeTags (Action=DescribeTags): the tags of the account's EC2
//     instances in the region (i- IDs; hybrid mi- nodes are not EC2's), an
//     item each (resourceId, resourceType instance, key, value) in fleet
//     and key order; filters key, value, resource-id, resource-type and
//     tag:KEY (exact match, no wildcards), at most 200 values in all
//     (more is FilterLimitExceeded, "The maximum number of filter values
//     specified on a single call is 200"); MaxResults 5 to 1000 (without
//     it, every tag in one answer) and nextToken; DryRun.
//   - SSM ListTagsForResource (AmazonSSM.ListTagsForResource): a hybrid
//     node's tags (ResourceType ManagedInstance, an mi- ID of the
//     account-region), sorted by key; any other resource is
//     InvalidResourceId. It is SSM's, so it shares the account-region's
//     token bucket and faults.
//
// STS's errors are <ErrorResponse xmlns="https://sts.amazonaws.com/doc/
// 2011-06-15/"><Error><Type>Sender</Type><Code>..</Code><Message>..
// </Message></Error><RequestId>..</RequestId></ErrorResponse>. The
// credential scope's service must be the operation's (ssm, sts,
// organizations, ec2): otherwise InvalidSignatureException (SSM,
// Organizations) or SignatureDoesNotMatch (STS, EC2), "Credential should be
// scoped to correct service: 'sts'. ". Options.DenyAccessKeys works for
// every service, each refusing in its own words (GetCallerIdentity, which
// needs no permission, is never AccessDenied).
//
// Faults (latency, throttling, drops, 500s, malformed bodies) are SSM's:
// STS, Organizations and EC2 answer faithfully. In an organisation, each
// account-region has its own token bucket with the Rate and Burst of the
// Faults in force, as AWS throttles each account in each region apart, and
// its own counters (Server.RegionStats, ResetRegionStats). Stats.Calls
// counts the new operations by name (OpGetCallerIdentity, OpAssumeRole,
// OpListAccounts, OpDescribeRegions, OpDescribeTags, OpListTagsForResource).
// A PageKey's Subject for
// DescribeInstanceInformation in an organisation starts with
// "ACCOUNT/REGION ", so that the same filters in two account-regions are
// two listings.
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
// Fleet.Drift returns a drifted copy of a fleet, deterministic from
// DriftConfig.Seed, and Changes, the exact truth of what changed per
// instance and association: failures resolved (Failed to Success, with a
// later ExecutionDate), new failures (Success to Failed, with an
// ErrorCode), associations added and removed, instances added (new IDs) and
// removed (still listed by IDs, but unmanaged: InvalidInstanceId). A
// drifted generated fleet stays lazy: it stores its IDs and the drift's
// parameters and derives instances on demand. Org.Drift drifts every
// account-region's fleet, keeping IDs distinct across the organisation;
// serve the drifted copy from a second Server to audit "last week" and
// "this week".
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
