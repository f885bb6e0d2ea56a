package audit

import (
	"fmt"
	"slices"
)

// The functions below are wholeParts, Part.overlaps and covers as they
// were before they were made linear in the parts: each part was compared
// with every part of every later input, and an instance hashed once per
// shard. They are kept, for the tests only, as the reference that the
// linear ones must agree with on every input.

func wholePartsRef(infos []RunInfo, parts []Part) []Part {
	var out []Part
	for _, p := range parts {
		whole := false
		for i := len(infos) - 1; i >= 0; i-- {
			ri := infos[i]
			at := slices.IndexFunc(ri.Parts, p.sameAs)
			if at >= 0 {
				whole = partWhole(ri, ri.Parts[at])
				break
			}
			if slices.ContainsFunc(ri.Parts, func(q Part) bool { return overlapsRef(p, q) && !partWhole(ri, q) }) {
				break
			}
		}
		if whole {
			out = append(out, p)
		}
	}
	return out
}

func overlapsRef(p, q Part) bool {
	if p.Fleet == q.Fleet {
		return true
	}
	if p.List == "" || q.List != p.List {
		return false
	}
	var k, n, l, m int
	_, errP := fmt.Sscanf(p.Shard, "%d/%d", &k, &n)
	_, errQ := fmt.Sscanf(q.Shard, "%d/%d", &l, &m)
	return errP != nil || errQ != nil || n != m || k == l
}

func coversRef(parts []Part) func(*Result) bool {
	if len(parts) == 0 || len(PartialShards(parts)) == 0 {
		return nil
	}
	type shard struct {
		k, n  int
		sites bool
	}
	var in []shard
	for _, p := range parts {
		var k, n int
		if p.Shard == "" {
			return nil
		}
		if _, err := fmt.Sscanf(p.Shard, "%d/%d", &k, &n); err != nil || n < 1 || k < 0 || k >= n {
			return nil
		}
		in = append(in, shard{k, n, p.Discovered()})
	}
	return func(r *Result) bool {
		return slices.ContainsFunc(in, func(s shard) bool {
			if s.sites {
				return SiteIn(r.AccountID, r.Region, s.k, s.n)
			}
			return PartOf(r.InstanceID, s.n) == s.k
		})
	}
}
