package ssmsim

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// rng is a splitmix64 stream: tiny, fast, and good enough to draw a fleet.
// Every instance and association draws from its own stream, keyed by (seed,
// index, salt), so that any part of the fleet can be derived alone and in
// any order.
type rng struct{ s uint64 }

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func newRNG(seed, a, b uint64) rng {
	s := mix64(seed ^ 0x6a09e667f3bcc909)
	s = mix64(s ^ (a * 0x9e3779b97f4a7c15))
	s = mix64(s ^ (b * 0xc2b2ae3d27d4eb4f))
	return rng{s}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// between returns a duration in [lo, hi).
func (r *rng) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.next()%uint64(hi-lo))
}

// Salts keep the streams of one instance apart.
const (
	saltKind uint64 = iota + 1
	saltID
	saltProfile
	saltInfo
	saltHeavy
	saltPool
	saltFailing
	saltExec = 1 << 20 // + pool index
)

const (
	poolSize   = 160 // associations a fleet draws from; bounds Heavy's count
	commonSize = 24  // the first commonSize are the ones ordinary instances have
	day        = 24 * time.Hour
)

// poolEntry is an association of the fleet, which many instances share: its
// ID, document and names are the same on every instance it targets.
type poolEntry struct {
	id, doc, docVersion, assocVersion, name string
	plugins                                 int    // plugins in the document: 1 to 3
	bucket                                  string // "bucket/prefix" for output, or ""
}

var commonDocs = [commonSize]struct {
	doc, name string
	plugins   int
}{
	{"AWS-GatherSoftwareInventory", "Inventory-Association", 1},
	{"AWS-UpdateSSMAgent", "UpdateSSMAgent-Weekly", 1},
	{"AWS-RunPatchBaseline", "PatchScan-Daily", 3},
	{"AWS-RunPatchBaseline", "PatchInstall-SundayWindow", 3},
	{"AWS-ConfigureAWSPackage", "Install-CloudWatchAgent", 1},
	{"AmazonCloudWatch-ManageAgent", "CloudWatch-Config", 2},
	{"AWS-ConfigureAWSPackage", "Install-InspectorAgent", 1},
	{"AWS-RunShellScript", "rotate-logs", 1},
	{"AWS-RunPowerShellScript", "Set-TimeZone", 1},
	{"AWS-ApplyAnsiblePlaybooks", "ansible-baseline", 1},
	{"Custom-CISHardening", "cis-level1", 2},
	{"arn:aws:ssm:us-east-1:111122223333:document/Shared-SecurityBaseline", "shared-security-baseline", 1},
	{"Acme-DiskCleanup", "", 1},
	{"AWS-GatherSoftwareInventory", "", 1},
	{"Ops-SplunkForwarder", "splunk-forwarder", 1},
	{"AWS-ConfigureAWSPackage", "Install-CrowdStrike", 1},
	{"AWS-UpdateSSMAgent", "", 1},
	{"Custom-ComplianceCheck.v2", "compliance_check.v2", 1},
	{"AWS-RunShellScript", "ntp-sync", 1},
	{"AWS-RunPatchBaselineWithHooks", "patch-with-hooks", 3},
	{"AWS-RunRemoteScript", "pull-config-from-s3", 1},
	{"AWSEC2-ConfigureSTIG", "stig-hardening", 1},
	{"AWS-ConfigureWindowsUpdate", "windows-update-schedule", 1},
	{"Acme-AppDeploy", "app-deploy", 1},
}

var appDocs = []string{"Acme-AppConfig", "AWS-RunShellScript", "AWS-ApplyAnsiblePlaybooks", "Acme-FeatureFlags"}

var buckets = []string{"acme-ssm-logs/associations", "ops-audit-output-111122223333/ssm"}

func newPool(seed uint64) []poolEntry {
	pool := make([]poolEntry, poolSize)
	r := newRNG(seed, 0, saltPool)
	for k := range pool {
		e := &pool[k]
		e.id = uuid(&r)
		if k < commonSize {
			e.doc, e.name, e.plugins = commonDocs[k].doc, commonDocs[k].name, commonDocs[k].plugins
		} else {
			e.doc = appDocs[k%len(appDocs)]
			e.name = fmt.Sprintf("app-config-%03d", k-commonSize+1)
			e.plugins = 1
		}
		switch x := r.intn(100); {
		case x < 50:
			e.docVersion = "$DEFAULT"
		case x < 70:
			e.docVersion = "$LATEST"
		default:
			e.docVersion = strconv.Itoa(1 + r.intn(7))
		}
		e.assocVersion = strconv.Itoa(1 + r.intn(14))
		if r.intn(100) < 30 {
			e.bucket = buckets[r.intn(len(buckets))]
		}
	}
	return pool
}

// uuid draws a version 4 UUID.
func uuid(r *rng) string {
	var b [36]byte
	hi, lo := r.next(), r.next()
	hi = hi&^(0xf<<12) | 4<<12   // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10
	raw := [16]byte{}
	for k := 0; k < 8; k++ {
		raw[k] = byte(hi >> (56 - 8*k))
		raw[8+k] = byte(lo >> (56 - 8*k))
	}
	j := 0
	for k, c := range raw {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

func (f *Fleet) generate(cfg FleetConfig, taken func(string) bool) {
	n := cfg.Size
	if n <= 0 {
		return
	}
	unmanaged := cfg.UnmanagedFraction
	if unmanaged == 0 {
		unmanaged = 0.03
	}
	heavy := cfg.Heavy
	switch {
	case heavy < 0:
		heavy = 0
	case heavy == 0 && n >= 10:
		heavy = max(2, n/1000)
	}
	heavy = min(heavy, n)
	f.ids = make([]string, n)
	f.flags = make([]uint8, n)
	if heavy > 0 {
		stripe := n / heavy
		r := newRNG(f.seed, 0, saltHeavy)
		for k := range heavy {
			f.flags[k*stripe+r.intn(stripe)] |= flagHeavy
		}
	}
	for i := range n {
		r := newRNG(f.seed, uint64(i), saltKind)
		if f.flags[i]&flagHeavy == 0 && r.float() < unmanaged {
			f.flags[i] |= flagUnmanaged
		}
		kind := r.intn(100)
		for attempt := uint64(0); ; attempt++ {
			idr := newRNG(f.seed, uint64(i), saltID|attempt<<8)
			id := genID(kind, &idr)
			if _, dup := f.byID[id]; !dup && (taken == nil || !taken(id)) {
				f.ids[i] = id
				f.byID[id] = int32(i)
				break
			}
		}
	}
}

// genID draws an ID: 10% mi- (on-premises), 4% i- with 8 hex digits (the
// old EC2 format), the rest i- with 17.
func genID(kind int, r *rng) string {
	var b [20]byte
	var s []byte
	switch {
	case kind < 10:
		s = append(b[:0], "mi-0"...)
		s = appendHex(s, r.next(), 16)
	case kind < 14:
		s = append(b[:0], "i-"...)
		s = appendHex(s, r.next(), 8)
	default:
		s = append(b[:0], "i-0"...)
		s = appendHex(s, r.next(), 16)
	}
	return string(s)
}

func appendHex(b []byte, v uint64, digits int) []byte {
	for k := digits - 1; k >= 0; k-- {
		b = append(b, hexDigits[(v>>(4*uint(k)))&0xf])
	}
	return b
}

// Instance health: how its associations fare.
const (
	healthy uint8 = iota
	flaky
	broken
	stale // agent offline for weeks: old dates, ConnectionLost
)

// profile is what an instance's associations derive from.
type profile struct {
	n        int
	heavy    bool
	mask     uint32 // pool entries of an ordinary instance (bits < commonSize)
	health   uint8
	platform uint8
}

// poolIndex returns the pool index of the instance's k-th association.
func (p *profile) poolIndex(k int) int {
	if p.heavy {
		return k
	}
	m := p.mask
	for ; k > 0; k-- {
		m &= m - 1
	}
	return bits.TrailingZeros32(m)
}

// profile returns entry i's profile, as generated and then changed by every
// drift since.
func (f *Fleet) profile(i int) profile {
	p := f.profile0(i)
	for _, l := range f.layers {
		if i < l.before {
			p = l.profile(i, p)
		}
	}
	return p
}

func (f *Fleet) profile0(i int) profile {
	r := newRNG(f.seed, uint64(i), saltProfile)
	var p profile
	switch x := r.intn(100); {
	case x < 78:
		p.health = healthy
	case x < 90:
		p.health = flaky
	case x < 94:
		p.health = broken
	default:
		p.health = stale
	}
	p.platform = platformPick[r.intn(len(platformPick))]
	if f.flags[i]&flagHeavy != 0 {
		p.heavy = true
		p.n = 101 + r.intn(poolSize-100)
		return p
	}
	if r.intn(100) < 5 {
		return p
	}
	p.n = 1 + r.intn(4) + r.intn(4)
	if r.intn(5) == 0 {
		p.n += r.intn(5)
	}
	var a [commonSize]uint8
	for j := range a {
		a[j] = uint8(j)
	}
	for j := 0; j < p.n; j++ {
		k := j + r.intn(commonSize-j)
		a[j], a[k] = a[k], a[j]
		p.mask |= 1 << a[j]
	}
	return p
}

// Wire values, indexed by execResult's fields.
var (
	statusNames = [...]string{"Success", "Failed", "Pending"}
	detailNames = [...]string{"", "Success", "Skipped", "Failed", "TimedOut", "Pending", "InProgress", "Associated"}
	errorCodes  = [...]string{"", "ExecutionError", "StuckAtInProgress", "InvalidAssoc", "ListAssocError", "SubmitAssocError", "InvalidExpression"}
)

const (
	stSuccess uint8 = iota
	stFailed
	stPending
)

const (
	dtNone uint8 = iota
	dtSuccess
	dtSkipped
	dtFailed
	dtTimedOut
	dtPending
	dtInProgress
	dtAssociated
)

const (
	sumNone uint8 = iota
	sumSuccess
	sumFailed
	sumTimedOut
	sumSkipped
	sumKinds
)

// summaries[plugins-1][kind] is the agent's execution summary.
var summaries = func() (t [3][sumKinds]string) {
	for p := 1; p <= 3; p++ {
		plural := "plugin"
		if p > 1 {
			plural = "plugins"
		}
		line := func(s, fl, to, sk int) string {
			return fmt.Sprintf("%d out of %d %s processed, %d success, %d failed, %d timedout, %d skipped. ", p, p, plural, s, fl, to, sk)
		}
		t[p-1][sumSuccess] = line(1, 0, 0, p-1)
		t[p-1][sumFailed] = line(0, 1, 0, p-1)
		t[p-1][sumTimedOut] = line(0, 0, 1, p-1)
		t[p-1][sumSkipped] = line(0, 0, 0, p)
	}
	return t
}()

// execResult is the latest execution of one association on one instance.
type execResult struct {
	status, detail, code, summary uint8
	at                            time.Time // the execution date; zero: never ran
}

// genExec returns the latest execution of the association at pool index
// poolIdx on entry i, as generated and then changed by every drift since.
func (f *Fleet) genExec(i int, p profile, poolIdx int) execResult {
	e := f.genExec0(i, p, poolIdx)
	for _, l := range f.layers {
		if i < l.before {
			e = l.exec(i, poolIdx, e)
		}
	}
	return e
}

// genExec0 returns the execution as generated.
func (f *Fleet) genExec0(i int, p profile, poolIdx int) execResult {
	r := newRNG(f.seed, uint64(i), saltExec+uint64(poolIdx))
	if f.failing > 0 {
		// The plain mix of FleetConfig.Failing: a whole instance fails,
		// or every association of it succeeded in the last day.
		var e execResult
		fr := newRNG(f.seed, uint64(i), saltFailing)
		if fr.float() < f.failing {
			e.status, e.detail, e.code, e.summary = stFailed, dtFailed, 1, sumFailed
		} else {
			e.status, e.detail, e.summary = stSuccess, dtSuccess, sumSuccess
		}
		e.at = f.entryBase(i).Add(-r.between(5*time.Minute, 20*time.Hour).Truncate(time.Millisecond))
		return e
	}
	var failP, pendP int // percent
	switch p.health {
	case healthy:
		failP, pendP = 4, 4
	case flaky:
		failP, pendP = 35, 8
	case broken:
		failP, pendP = 85, 5
	default:
		failP, pendP = 15, 25
	}
	var e execResult
	var ago time.Duration // before the entry's base time; 0: never ran
	x := r.intn(100)
	switch {
	case x < failP:
		e.status = stFailed
		switch y := r.intn(100); {
		case y < 30:
			e.detail, e.summary = dtFailed, sumFailed
		case y < 52:
			e.detail, e.code, e.summary = dtFailed, 1, sumFailed // ExecutionError
		case y < 62:
			e.detail, e.summary = dtTimedOut, sumTimedOut
		case y < 70:
			e.detail, e.code, e.summary = dtTimedOut, 2, sumTimedOut // StuckAtInProgress
		default:
			e.detail, e.code = dtFailed, uint8(3+(y-70)/8) // InvalidAssoc ... InvalidExpression
			e.code = min(e.code, uint8(len(errorCodes)-1))
		}
	case x < failP+pendP:
		e.status = stPending
		switch y := r.intn(100); {
		case y < 40:
			e.detail = dtPending
		case y < 75:
			e.detail = dtInProgress
		default:
			e.detail = dtAssociated
		}
	default:
		e.status = stSuccess
		switch y := r.intn(100); {
		case y < 90:
			e.detail, e.summary = dtSuccess, sumSuccess
		case y < 95:
			e.detail, e.summary = dtSkipped, sumSkipped
		default:
			e.detail, e.summary = dtNone, sumSuccess // DetailedStatus absent, as AWS sometimes sends
		}
	}
	switch {
	case e.detail == dtAssociated:
		// created, never ran: no execution date
	case p.health == stale || r.intn(100) < 3:
		ago = r.between(14*day, 70*day)
	case e.detail == dtInProgress || e.detail == dtPending:
		ago = r.between(time.Minute, 45*time.Minute)
	default:
		ago = r.between(5*time.Minute, 30*time.Hour)
	}
	if ago = ago.Truncate(time.Millisecond); ago != 0 {
		e.at = f.entryBase(i).Add(-ago)
	}
	return e
}

func (f *Fleet) genAssociation(i int, id string, p profile, poolIdx int) Association {
	pe := &f.pool[poolIdx]
	e := f.genExec(i, p, poolIdx)
	a := Association{
		AssociationID:      pe.id,
		Name:               pe.doc,
		DocumentVersion:    pe.docVersion,
		AssociationVersion: pe.assocVersion,
		InstanceID:         id,
		ExecutionDate:      e.at,
		Status:             statusNames[e.status],
		DetailedStatus:     detailNames[e.detail],
		ExecutionSummary:   summaries[pe.plugins-1][e.summary],
		ErrorCode:          errorCodes[e.code],
		AssociationName:    pe.name,
	}
	if pe.bucket != "" && !e.at.IsZero() {
		a.OutputURL = "https://s3.amazonaws.com/" + pe.bucket + "/" + id + "/" + pe.id
	}
	return a
}

type platform struct{ typ, name, version string }

var platforms = [...]platform{
	{"Linux", "Amazon Linux", "2023"},
	{"Linux", "Amazon Linux", "2"},
	{"Linux", "Ubuntu", "22.04"},
	{"Linux", "Ubuntu", "24.04"},
	{"Linux", "Red Hat Enterprise Linux", "9.4"},
	{"Linux", "SLES", "15.5"},
	{"Windows", "Microsoft Windows Server 2022 Datacenter", "10.0.20348"},
	{"Windows", "Microsoft Windows Server 2019 Datacenter", "10.0.17763"},
	{"MacOS", "macOS", "14.5"},
}

// platformPick weights platforms: mostly Linux, a quarter Windows, a few Macs.
var platformPick = []uint8{0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6, 6, 6, 7, 7, 8}

const latestAgent = "3.3.1142.0"

var agentVersions = []string{latestAgent, latestAgent, latestAgent, "3.3.987.0", "3.2.2303.0", "3.1.1732.0", "2.3.1644.0"}

var (
	envValues  = []string{"prod", "prod", "prod", "prod", "prod", "prod", "prod", "prod", "prod", "prod", "staging", "staging", "staging", "staging", "dev", "dev", "dev", "dev", "dev", ""}
	teamValues = []string{"payments", "platform", "data", "web", "ml", "", "payments", "platform", "data", "web"}
	teamRoles  = map[string]string{"payments": "api", "platform": "infra", "data": "etl", "web": "web", "ml": "gpu", "": "host"}
)

func (f *Fleet) genInstance(i int, withAssoc bool) Instance {
	id := f.ids[i]
	inst := Instance{InstanceID: id}
	if f.flags[i]&flagUnmanaged != 0 {
		inst.Unmanaged = true
		return inst
	}
	p := f.profile(i)
	r := newRNG(f.seed, uint64(i), saltInfo)
	pl := platforms[p.platform]
	base := f.entryBase(i)
	inst.PlatformType, inst.PlatformName, inst.PlatformVersion = pl.typ, pl.name, pl.version
	inst.AgentVersion = agentVersions[r.intn(len(agentVersions))]
	// AWS sends IsLatestVersion for Windows nodes too (the AWS Tools for
	// PowerShell reference shows a Windows node with False), but documents
	// that it "doesn't indicate whether or not the latest version is
	// installed on Windows managed nodes": false whatever the version, so
	// that a reader who trusts it there is caught.
	inst.IsLatestVersion = inst.AgentVersion == latestAgent && pl.typ != "Windows"
	switch {
	case p.health == stale && r.intn(10) == 0:
		inst.PingStatus = "Inactive"
		inst.LastPingDateTime = base.Add(-r.between(14*day, 70*day).Truncate(time.Millisecond))
	case p.health == stale || r.intn(100) < 3:
		inst.PingStatus = "ConnectionLost"
		inst.LastPingDateTime = base.Add(-r.between(time.Hour, 70*day).Truncate(time.Millisecond))
	default:
		inst.PingStatus = "Online"
		// An online agent pings every few minutes: it has pinged lately
		// whenever the fleet is looked at, drifted or not.
		inst.LastPingDateTime = f.BaseTime().Add(-r.between(10*time.Second, 5*time.Minute).Truncate(time.Millisecond))
	}
	a, b, c := r.intn(256), r.intn(256), 1+r.intn(254)
	inst.IPAddress = fmt.Sprintf("10.%d.%d.%d", a, b, c)
	env := envValues[r.intn(len(envValues))]
	team := teamValues[r.intn(len(teamValues))]
	inst.Tags = make(map[string]string, 4)
	if env != "" {
		inst.Tags["Environment"] = env
	}
	if team != "" {
		inst.Tags["Team"] = team
	}
	hostname := fmt.Sprintf("%s-%05d", teamRoles[team], i)
	inst.Tags["Name"] = hostname
	if r.intn(100) < 60 {
		inst.Tags["PatchGroup"] = strings.ToLower(pl.typ) + "-" + prodOr(env)
	}
	if strings.HasPrefix(id, "mi-") {
		inst.ResourceType = "ManagedInstance"
		inst.ComputerName = hostname + ".corp.example.com"
		inst.Name = hostname
		inst.ActivationID = uuid(&r)
		inst.IAMRole = "SSMServiceRole"
		inst.RegistrationDate = base.Add(-r.between(30*day, 400*day).Truncate(time.Second))
		inst.SourceID, inst.SourceType = id, "AWS::SSM::ManagedInstance"
	} else {
		inst.ResourceType = "EC2Instance"
		if pl.typ == "Windows" {
			const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			var w [7]byte
			for k := range w {
				w[k] = alnum[r.intn(len(alnum))]
			}
			inst.ComputerName = "EC2AMAZ-" + string(w[:])
		} else {
			inst.ComputerName = fmt.Sprintf("ip-10-%d-%d-%d.ec2.internal", a, b, c)
		}
		if r.intn(100) < 30 {
			inst.IAMRole = "AmazonSSMRoleForInstancesQuickSetup"
		}
		inst.SourceID, inst.SourceType = id, "AWS::EC2::Instance"
	}
	if withAssoc {
		inst.Associations = f.assocRange(i, 0, p.n, make([]Association, 0, p.n))
	}
	return inst
}

// prodOr returns "prod" for prod and "nonprod" for anything else.
func prodOr(env string) string {
	if env == "prod" {
		return env
	}
	return "nonprod"
}
