package audit

import "fmt"

// Shard keeps only the targets in part k of n (0 <= k < n), valid and
// invalid, in their order. A target's part is PartOf(InstanceID, n), so the
// same instance always lands in the same part, whatever the input order,
// region or machine, and parts are even in size. Shard panics when n < 1 or
// k is out of range.
func (f *Fleet) Shard(k, n int) {
	if n < 1 || k < 0 || k >= n {
		panic(fmt.Sprintf("audit.Fleet.Shard: part %d of %d", k, n))
	}
	f.Keep(func(t Target) bool { return PartOf(t.InstanceID, n) == k })
}

// PartOf returns the part of n (0 to n-1) that an instance falls in: FNV-1a 64
// of the ID, mixed by the MurmurHash3 64-bit finalizer, modulo n.
func PartOf(id string, n int) int {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return int(h % uint64(n))
}

// SiteIn reports whether the account-region falls in part k of n, by the
// same hash as PartOf over "ACCOUNT/REGION": a run sharded by site gives
// each shard whole account-regions, so that no two shards share one
// account-region's rate limit.
func SiteIn(account, region string, k, n int) bool {
	return SitePart(account, region, n) == k
}

// SitePart returns the part of n that the account-region falls in (see
// SiteIn).
func SitePart(account, region string, n int) int {
	return PartOf(account+"/"+region, n)
}

// ShardSites keeps only the targets whose account-region is in part k of n
// (see SiteIn), valid and invalid. It panics as Shard does.
func (f *Fleet) ShardSites(k, n int) {
	if n < 1 || k < 0 || k >= n {
		panic(fmt.Sprintf("audit.Fleet.ShardSites: part %d of %d", k, n))
	}
	f.Keep(func(t Target) bool { return SiteIn(t.AccountID, t.Region, k, n) })
}
