package audit

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// infoMaker makes the InstanceInfo of the nodes DescribeInstanceInformation
// returns, compactly: a discovered fleet holds one for each node until the
// node is audited, 200,000 of them in a large organisation. The strings
// that repeat from node to node (platform, agent version, statuses) are
// kept once, the others are copied out of the decoded page (so that they do
// not hold it), the times share one allocation with the information, and
// nodes with the same association overview share one. An InstanceInfo is
// never changed once made, so sharing is safe. The zero value is ready.
type infoMaker struct {
	mu        sync.Mutex
	strs      stringPool
	overviews map[string]*AssociationOverview
}

// Bounds on what infoMaker keeps: past them, values are copied rather
// than shared (a fleet of that many platforms or overviews is not one
// whose memory this saves).
const (
	maxInterned       = 4096
	maxInternedLen    = 128
	maxSharedOverview = 4096
)

// infoBlock is an InstanceInfo and the values its pointers point to, in one
// allocation.
type infoBlock struct {
	info   InstanceInfo
	times  [3]time.Time
	latest bool
}

func (m *infoMaker) from(in types.InstanceInformation) *InstanceInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := &infoBlock{}
	info := &b.info
	*info = InstanceInfo{
		ComputerName:      strings.Clone(aws.ToString(in.ComputerName)),
		PlatformType:      m.intern(string(in.PlatformType)),
		PlatformName:      m.intern(aws.ToString(in.PlatformName)),
		PlatformVersion:   m.intern(aws.ToString(in.PlatformVersion)),
		AgentVersion:      m.intern(aws.ToString(in.AgentVersion)),
		PingStatus:        m.intern(string(in.PingStatus)),
		ResourceType:      m.intern(string(in.ResourceType)),
		IPAddress:         strings.Clone(aws.ToString(in.IPAddress)),
		AssociationStatus: m.intern(aws.ToString(in.AssociationStatus)),
	}
	if in.IsLatestVersion != nil {
		b.latest = *in.IsLatestVersion
		info.IsLatestVersion = &b.latest
	}
	info.LastPingDateTime = b.time(0, in.LastPingDateTime)
	info.LastAssociationExecutionDate = b.time(1, in.LastAssociationExecutionDate)
	info.LastSuccessfulAssociationExecutionDate = b.time(2, in.LastSuccessfulAssociationExecutionDate)
	info.AssociationOverview = m.overview(in.AssociationOverview)
	return info
}

// time stores t, in UTC, in the block's slot i.
func (b *infoBlock) time(i int, t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	b.times[i] = t.UTC()
	return &b.times[i]
}

// intern returns s, shared with every equal string made before it.
func (m *infoMaker) intern(s string) string { return m.strs.of(s) }

// stringPool keeps one copy of each of the strings that repeat, within
// bounds (maxInterned strings of at most maxInternedLen bytes): past them
// it copies. What it returns never holds the memory s came from. The zero
// value is ready; it is not safe for concurrent use.
type stringPool struct{ m map[string]string }

func (p *stringPool) of(s string) string {
	if s == "" || len(s) > maxInternedLen {
		return strings.Clone(s)
	}
	if v, ok := p.m[s]; ok {
		return v
	}
	v := strings.Clone(s)
	if p.m == nil {
		p.m = map[string]string{}
	}
	if len(p.m) < maxInterned {
		p.m[v] = v
	}
	return v
}

// overview returns the AssociationOverview of o, shared with every node
// whose overview is the same.
func (m *infoMaker) overview(o *types.InstanceAggregatedAssociationOverview) *AssociationOverview {
	if o == nil {
		return nil
	}
	var key strings.Builder
	key.WriteString(aws.ToString(o.DetailedStatus))
	for _, k := range slices.Sorted(maps.Keys(o.InstanceAssociationStatusAggregatedCount)) {
		key.WriteString("\x00" + k + "=" + strconv.Itoa(int(o.InstanceAssociationStatusAggregatedCount[k])))
	}
	if v, ok := m.overviews[key.String()]; ok {
		return v
	}
	v := &AssociationOverview{DetailedStatus: m.intern(aws.ToString(o.DetailedStatus))}
	if len(o.InstanceAssociationStatusAggregatedCount) > 0 {
		v.InstanceAssociationStatusAggregatedCount = make(map[string]int, len(o.InstanceAssociationStatusAggregatedCount))
		for k, n := range o.InstanceAssociationStatusAggregatedCount {
			v.InstanceAssociationStatusAggregatedCount[m.intern(k)] = int(n)
		}
	}
	if m.overviews == nil {
		m.overviews = map[string]*AssociationOverview{}
	}
	if len(m.overviews) < maxSharedOverview {
		m.overviews[key.String()] = v
	}
	return v
}
