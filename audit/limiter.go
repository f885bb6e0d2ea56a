package audit

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces the calls to one account and region. A Limiter is safe for
// concurrent use; the zero value is not valid, use NewLimiter.
type Limiter struct {
	mu  sync.Mutex
	now func() time.Time
	lim *rate.Limiter // the fixed mode's; nil when adaptive

	// Pacing: a call may start 1/rate after the last; callers line up.
	rate        float64
	lastGrant   time.Time
	waiting     int
	line        []chan struct{}
	firsts      int // callers at the head of line who asked to go first
	dispatching bool
	kick        chan struct{}
	grants      grantLog
	inflight    int

	// Adaptive control.
	start     time.Time
	slowStart bool
	last      time.Time // of the last growth step
	win       window
	ep        episode // since the first throttle answered
	answers   answerLog
	latency   float64 // mean, seconds
	guard     int     // answers still due from before the last cut
	bg        bgBlocks
	limit     float64 // the limit estimated at the last cut
	estA      limitEstimate
	estS      limitEstimate
	cutAt     time.Time
	k         float64 // seconds from a cut back to the limit
	throttled bool
	peak      float64
	cuts      int
	scale     float64   // calls per second that set how fast the rate grows
	capped    time.Time // since when the rate sits at the cap
	// After a cut, the answers back under the limit tell whether the
	// throttles depended on the rate at all.
	verify  verification
	bgFloor float64
	// The slow start's answers and throttles; at its end, the share of
	// them that came before its last spell (startBg), when enough did.
	ssN, ssThr int
	ssOK       float64 // the calls answered, not throttled, over its last second
	startBg    float64

	// The processes sharing its bucket, when they can tell each other
	// their pace (see Peers).
	peers  Peers
	paceAt time.Time // of the last exchange
	fair   float64   // the fair share of what the bucket lets through; 0: unknown
	// peerCuts is each other's cuts (by Pace.Peer) at the last exchange.
	peerCuts map[int]int
	// peerPace is each other's recent pace when last heard, until it
	// said it was done.
	peerPace map[int]float64
	okCount  int        // calls answered, not throttled
	paceLog  []paceMark // okCount at the exchanges over the last paceSpan
	sharers  int        // the most others heard from at one exchange
	found    int        // cuts for throttles it saw itself, not the others'
}

type paceMark struct {
	at time.Time
	ok int
}

// Peers lets the processes that share one bucket (the shards of one list,
// on one account-region) tell each other how fast their calls go through.
// A process cannot tell a bucket that others keep dry from one that is
// small: each cut goes to a part of its own rate, so shares stay where the
// start put them (BENCHMARKS.md). Told the others' pace, a process takes
// the fair share of what the bucket lets through as its limit at each cut.
// Exchange must not block: it hands over mine and returns what the others
// said last, those still running only, and those that ended since (Done).
// A mine with Done is the last a Limiter hands over: the process
// ended its work on the bucket.
type Peers interface {
	Exchange(now time.Time, mine Pace) []Pace
}

// Pace is what a process tells the others on its bucket.
type Pace struct {
	// OK is the calls answered, not throttled, a second, over the last
	// paceSpan.
	OK float64 `json:"ok"`
	// Recent is the same over the last paceRecent.
	Recent float64 `json:"recent"`
	// Wants says the Limiter sets the process's pace: it would go faster.
	// A process held back by its pool, or finishing, takes what it uses.
	Wants bool `json:"wants"`
	// Cuts counts the process's cuts for the throttles it saw itself so
	// far (not those it made as the others cut: they would echo).
	Cuts int `json:"cuts"`
	// Done says the process ended its work on the bucket (its shard's
	// file was removed as it closed, or it audited every target there
	// while it goes on elsewhere): the pace it had is free. One that is
	// only no longer heard (a shard killed, a slow volume) may still take
	// its part.
	Done bool `json:"done,omitempty"`
	// Peer names the process that said it, among those on the bucket (a
	// shard's index), so that a process's cuts are told from another's.
	Peer int `json:"-"`
}

// exchange tells the others on the bucket this process's pace and takes
// theirs. When one of them cut since (it found the bucket dry), this
// process cuts too if it was still starting or probing past its limit:
// each would find the same, and N processes that each wait for throttles
// enough to tell cost N times a process's throttles. It reports whether
// it cut.
func (l *Limiter) exchange(now time.Time) bool {
	l.paceAt = now
	l.paceLog = append(l.paceLog, paceMark{now, l.okCount})
	for len(l.paceLog) > 2 && now.Sub(l.paceLog[1].at) >= paceSpan {
		l.paceLog = l.paceLog[1:]
	}
	rate := func(m paceMark) float64 {
		if now.Sub(m.at) <= 0 {
			return 0
		}
		return float64(l.okCount-m.ok) / now.Sub(m.at).Seconds()
	}
	recent := l.paceLog[0]
	for _, m := range l.paceLog {
		if now.Sub(m.at) >= paceRecent {
			recent = m
		}
	}
	mine := Pace{OK: rate(l.paceLog[0]), Recent: rate(recent), Wants: l.binding(now), Cuts: l.found}
	all := l.peers.Exchange(now, mine)
	others := make([]Pace, 0, len(all))
	var done []int
	for _, p := range all {
		if p.Done {
			done = append(done, p.Peer)
		} else {
			others = append(others, p)
		}
	}
	l.sharers = max(l.sharers, len(others))
	// Over the longer span, the share is steady; over the last seconds,
	// it follows a limit that fell. The lower of the two.
	l.fair = fairShare(mine, others, func(p Pace) float64 { return p.OK })
	if f := fairShare(mine, others, func(p Pace) float64 { return p.Recent }); f > 0 {
		l.fair = min(l.fair, f)
	}
	// A cut is one a process already heard from made since: one heard
	// again after a while, or first, says nothing new.
	newer := false
	heard := make(map[int]int, len(others))
	for _, p := range others {
		if before, ok := l.peerCuts[p.Peer]; ok && p.Cuts > before {
			newer = true
		}
		heard[p.Peer] = p.Cuts
	}
	l.peerCuts = heard
	l.claim(now, mine, others, done)
	// At most one such cut a cycle: the others' words cannot hold a
	// process down faster than its own throttles would.
	if newer && (l.slowStart || l.rate > l.limit) && now.Sub(l.cutAt).Seconds() >= max(l.k, 2*l.latency) {
		l.cut(now)
		return true
	}
	return false
}

// claim takes, when others on the bucket ended since the last exchange
// (done), a part of the pace they had: theirs over the processes that
// still want more, itself among them, on top of its limit. Without it, the
// process went on at its share of the limit, probing past it for seconds
// at a time (capSpell) until it found the bucket had room: the last shard
// to end ran for up to 13 s at a quarter of the limit, 0.92 of R over the
// whole run at N = 4. A done process's pace counts for at most this one's
// limit: heard last during its slow start, or seconds before it closed, it
// may be more than the bucket gave it. A process heard as done and as
// running at once (started again under its index) is running.
func (l *Limiter) claim(now time.Time, mine Pace, others []Pace, done []int) {
	if l.peerPace == nil {
		l.peerPace = map[int]float64{}
	}
	running := make(map[int]bool, len(others))
	for _, p := range others {
		running[p.Peer] = true
	}
	freed := 0.0
	for _, id := range done {
		if !running[id] {
			freed += min(l.peerPace[id], l.limit)
			delete(l.peerPace, id)
		}
	}
	wanting := 1
	for _, p := range others {
		l.peerPace[p.Peer] = p.Recent
		if p.Wants {
			wanting++
		}
	}
	if freed <= 0 || l.slowStart || l.cuts == 0 || !mine.Wants {
		return
	}
	// The curve keeps its shape, moved up: back from a cut it still comes
	// to the limit in k seconds, and a cut being verified is left alone.
	lim := l.limit + freed/float64(wanting)
	l.limit = lim
	l.estA.raise(lim)
	l.estS.raise(lim)
	l.capped = time.Time{}
	l.verify.on = false
}

// fairShare is the share of what the bucket lets through that each
// process that wants more may take: what the bucket let through, less what
// the processes that want no more use, over those that want more; 0 when
// no other process is known.
func fairShare(mine Pace, others []Pace, ok func(Pace) float64) float64 {
	if len(others) == 0 {
		return 0
	}
	var total, sated float64
	n := 0
	for _, p := range append([]Pace{mine}, others...) {
		total += ok(p)
		if p.Wants {
			n++
		} else {
			sated += ok(p)
		}
	}
	if n == 0 || total-sated <= 0 {
		return 0
	}
	return (total - sated) / float64(n)
}

// verification compares the throttled share before a cut with the share
// after it.
type verification struct {
	on         bool
	before     float64 // the share of the window that led to the cut
	n, thr     int     // answers after the cut
	limit      float64 // the limit before the cut, to restore
	estA, estS limitEstimate
	rateBefore float64
	sentBefore float64   // the calls let start a second over the last second before it
	at         time.Time // of the cut (cutAt moves on while the pool sets the pace)
}

// window gathers the answers since the last decision.
type window struct {
	start      time.Time
	n, thr, ok int
}

// episode counts the answers since the first throttle of a spell, when
// the service's bucket ran dry.
type episode struct {
	start   time.Time
	ok, thr int
}

func (e *episode) on() bool { return !e.start.IsZero() }

// paceBurst of calls may go at once after a lull, in both modes: over 100
// calls a second, callers who come at random to a pace they do not fill
// then go without waiting in line for it.
const paceBurst = 10 * time.Millisecond

const (
	paceEvery  = 500 * time.Millisecond // how often processes on one bucket exchange their pace
	paceSpan   = 10 * time.Second       // the span a process's pace is measured over
	paceRecent = 2 * time.Second        // and the span of its recent pace
)

// Tuning of the adaptive mode.
const (
	initialRate = 20.0            // calls per second at the start
	minRate     = 0.5             // the floor
	maxRate     = 1e5             // the ceiling
	slowStartE  = 0.2             // seconds per e-fold of the rate before the first cut
	beta        = 0.9             // a cut goes to beta times the estimated limit
	cubicC      = 0.0004          // growth past the limit, per second cubed, times scale
	capFactor   = 1.8             // probe at most this far past the estimate
	capSpell    = 6 * time.Second // at the cap this long without a throttle, the estimate rises
	scaleCap    = 4.0             // growth scale at most this many times a measured limit
	scaleWeight = 5.0             // an estimate this well measured (successes, decayed) sets it
	plateauStep = 0.97            // throttled below the estimate: it comes down by this

	winMin  = 500 * time.Millisecond // a window of answers lasts at least this
	winMinN = 20                     // and holds at least this many
	winMax  = 5 * time.Second        // or lasts this long
	zDetect = 3.0                    // standard deviations over the background
	pFloor  = 0.002                  // the least spread assumed of a share
	bgSmall = 0.015                  // a background a throttle past the limit outweighs, where a cycle has few calls (quietBelowLimit)

	kCap         = 12   // throttles that end the slow start, estimate or not
	nEstimate    = 20   // answers a cut waits for to estimate the limit
	estimateSpan = 0.1  // and, past the slow start, for this many seconds' answers at the limit
	ssAllow      = 0.02 // the slow start's throttles, at least kCap, as a share of its last second's successes
	minEstimate  = 8    // answers below which half as many carry no estimate
	boundCalls   = 10   // calls over which the rate before a throttle is taken

	estimateDecay    = 0.7 // weight kept by the estimate at each cut
	maxOutlierSpread = 0.3 // a measurement noisier than this cannot move it

	bgAssumed      = 0.05 // background share taken before the first cut
	bgBlock        = 100  // answers in a block of the background share
	verifyAnswers  = 30   // answers after a cut to tell whether it changed the share
	maxUndoBefore  = 0.3  // a cut is undone only if the share before it was at most this
	maxUndoAfter   = 0.1  // and the share after it at most this
	undoSentFell   = 0.95 // and the calls sent after it at most this part of those before
	undoPaced      = 0.85 // and at least this part of the Limiter's rate
	bgCap          = 0.1  // the most background believed
	bgStartAnswers = 100  // answers of the slow start before its last spell that measure the background
)

// NewLimiter returns a Limiter fixed at tps calls per second, or an adaptive
// one when tps is 0.
func NewLimiter(tps float64) *Limiter {
	return newLimiter(tps, time.Now)
}

func newLimiter(tps float64, now func() time.Time) *Limiter {
	l := &Limiter{now: now, kick: make(chan struct{}, 1)}
	t := now()
	if tps > 0 {
		l.rate = tps
		l.lim = rate.NewLimiter(rate.Limit(tps), max(1, int(tps*paceBurst.Seconds())))
		return l
	}
	l.slowStart, l.rate = true, initialRate
	l.lastGrant = t.Add(-time.Hour)
	l.last, l.start = t, t
	l.win = window{start: t}
	return l
}

// SetPeers lets an adaptive Limiter hear from the other processes on its
// bucket. It must be called before the first call; a fixed Limiter
// ignores it.
func (l *Limiter) SetPeers(p Peers) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim == nil {
		l.peers = p
	}
}

// finish tells the other processes on the bucket that this one ended its
// work there (Pace.Done), so that they take the pace it had at once, as
// they do for a shard that closed; fallen silent, it would be only no
// longer heard, its pace held from them. It speaks to them no more after.
func (l *Limiter) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil {
		return
	}
	l.peers.Exchange(l.now(), Pace{Done: true})
	l.peers = nil
}

// SharedWith returns the most other processes the Limiter heard from at
// once on its bucket (see Peers).
func (l *Limiter) SharedWith() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sharers
}

// Wait blocks until a call may start, or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error { return l.wait(ctx, false) }

// WaitFirst is Wait for a call that goes before every caller of Wait in
// line (after those of WaitFirst that came before it): the next page of a
// listing that the audit is waiting for. The pace is the same. A fixed
// Limiter lets calls go in the order they come: there WaitFirst is Wait
// (its pacing, x/time/rate's, holds the rate at thousands of calls a
// second, where the adaptive line falls behind).
func (l *Limiter) WaitFirst(ctx context.Context) error { return l.wait(ctx, true) }

func (l *Limiter) wait(ctx context.Context, first bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.lim != nil {
		return l.lim.Wait(ctx)
	}
	l.mu.Lock()
	if l.arrive(l.now()) {
		l.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	if first {
		l.line = slices.Insert(l.line, l.firsts, w)
		l.firsts++
	} else {
		l.line = append(l.line, w)
	}
	if !l.dispatching {
		l.dispatching = true
		go l.dispatch()
	}
	l.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-w:
		// Let go just now: the slot is spent, the caller gives up.
		l.inflight = max(l.inflight-1, 0)
	default:
		if i := slices.Index(l.line, w); i >= 0 {
			l.line = slices.Delete(l.line, i, i+1)
			if i < l.firsts {
				l.firsts--
			}
		}
		l.waiting--
	}
	return ctx.Err()
}

// dispatch lets the callers in line go one by one at the pace, and ends
// when the line is empty.
func (l *Limiter) dispatch() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		l.mu.Lock()
		now := l.now()
		for len(l.line) > 0 && l.release(now) {
			close(l.line[0])
			l.line = l.line[1:]
			l.firsts = max(l.firsts-1, 0)
		}
		if len(l.line) == 0 {
			l.dispatching = false
			l.mu.Unlock()
			return
		}
		d := l.due().Sub(now)
		l.mu.Unlock()
		t.Reset(d)
		select {
		case <-t.C:
		case <-l.kick:
		}
	}
}

// arrive is a caller asking to start a call at now: true lets it go at
// once; false puts it at the end of the line (the caller then waits for
// release).
func (l *Limiter) arrive(now time.Time) bool {
	if l.waiting == 0 && !now.Before(l.due()) {
		l.grant(now)
		return true
	}
	l.waiting++
	return false
}

// release lets the first caller in line go if its time has come.
func (l *Limiter) release(now time.Time) bool {
	if l.waiting == 0 || now.Before(l.due()) {
		return false
	}
	l.waiting--
	l.grant(now)
	return true
}

// due is when the next call may start.
func (l *Limiter) due() time.Time {
	return l.lastGrant.Add(time.Duration(float64(time.Second) / l.rate))
}

func (l *Limiter) grant(now time.Time) {
	// A caller that went late does not cost the next one its lateness, and
	// idle time is banked up to paceBurst of calls: callers who come at
	// random to a pace they do not fill go at once instead of waiting in
	// line for it. Below 100 calls a second, that is one call.
	iv := time.Duration(float64(time.Second) / l.rate)
	l.lastGrant = later(l.lastGrant.Add(iv), now.Add(-max(min(iv, 2*time.Millisecond), paceBurst-iv)))
	l.grants.add(now, l.start)
	l.inflight++
}

// Rate returns the current rate in calls per second.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

// Peak returns the highest rate an adaptive Limiter set once it had cut its
// rate for throttling: 0 before the first cut, and for a fixed Limiter.
func (l *Limiter) Peak() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}

// ends returns Rate and Peak at the same moment: the rate of a Limiter
// that was cut is at most its peak.
func (l *Limiter) ends() (rate, peak float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate, l.peak
}

// Success tells the Limiter that a call it let start at sent went through.
func (l *Limiter) Success(sent time.Time) { l.answer(sent, false) }

// Throttled tells the Limiter that a call it let start at sent was
// throttled.
func (l *Limiter) Throttled(sent time.Time) { l.answer(sent, true) }

// Failed tells the Limiter that a call it let start ended without a verdict
// on the rate: any error other than a throttle.
func (l *Limiter) Failed() {
	if l.lim != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight = max(l.inflight-1, 0)
	l.guard = max(l.guard-1, 0)
}

func (l *Limiter) answer(sent time.Time, throttled bool) {
	if l.lim != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observe(l.now(), sent, throttled)
}

func (l *Limiter) observe(now, sent time.Time, throttled bool) {
	l.inflight = max(l.inflight-1, 0)
	if !throttled {
		l.okCount++
	}
	l.answers.push(answerRec{int64(sent.Sub(l.start)), int64(now.Sub(l.start)), throttled, l.okCount})
	if lat := now.Sub(sent).Seconds(); l.latency == 0 {
		l.latency = lat
	} else {
		l.latency += (lat - l.latency) / 64
	}
	if throttled {
		l.throttled = true
		if !l.ep.on() {
			l.ep.start = now
		}
	}
	if l.slowStart {
		l.ssN++
		if throttled {
			l.ssThr++
		}
		l.ssOK = l.answers.okRate(now, time.Second, l.start)
	}
	if l.ep.on() {
		if throttled {
			l.ep.thr++
		} else {
			l.ep.ok++
		}
	}
	if l.peers != nil && now.Sub(l.paceAt) >= paceEvery && l.exchange(now) {
		return
	}
	if l.guard > 0 || now.Sub(l.cutAt).Seconds() < 2*l.latency {
		// Sent before the last cut, or soon after it, while the bucket
		// was still dry: says nothing about the new rate.
		l.guard = max(l.guard-1, 0)
		l.grow(now)
		return
	}
	w := &l.win
	w.n++
	if throttled {
		w.thr++
	} else {
		w.ok++
	}
	if l.cuts > 1 && l.rate <= l.limit && now.Sub(l.cutAt).Seconds() < l.k {
		// Under the limit, back from the cut: whatever throttles come
		// here come whatever the rate.
		l.bg.add(throttled)
	}
	if v := &l.verify; v.on && now.Sub(l.cutAt).Seconds() < l.k {
		v.n++
		if throttled {
			v.thr++
		}
		if v.n >= max(verifyAnswers, int(min(3/v.before, 1000))) {
			v.on = false
			// Only shares a background could make: a cut that left the
			// rate over the limit also leaves the share high. And only
			// where the cut changed what went out: fewer calls than
			// before it, at the Limiter's pace. When the pool's workers
			// sleep out their throttles' backoff, they, not the rate, set
			// how many calls go: a cut as the limit fell, to a rate still
			// over it, left the share at half what it was, was undone,
			// and the floor it left hid the limit's throttles for 8 s
			// and more (TestAdaptiveLimiterLimitDropsBusy).
			sentAfter := float64(l.grants.between(v.at, now, l.start)) / now.Sub(v.at).Seconds()
			changed := sentAfter <= undoSentFell*v.sentBefore && sentAfter >= undoPaced*l.rate
			if after := float64(v.thr) / float64(v.n); changed && after >= 0.5*v.before && v.before <= maxUndoBefore && after <= maxUndoAfter {
				// The share did not fall with the rate: those throttles
				// come whatever the rate. Undo the cut.
				l.bgFloor = max(l.bgFloor, after)
				l.limit, l.estA, l.estS = v.limit, v.estA, v.estS
				l.set(max(l.rate, min(v.rateBefore, l.limit)))
				l.cutAt = now.Add(-time.Duration(l.k * float64(time.Second)))
			}
		}
	} else {
		l.verify.on = false
	}
	// A cut waits for enough answers to estimate the limit by (in both
	// orders, the first time), or for as many throttles as a cycle may
	// cost.
	if l.congested() && (l.ep.thr >= l.allowance() || l.estimateReady()) {
		l.found++
		l.cut(now)
		return
	}
	el := now.Sub(w.start)
	if (el >= winMin && w.n >= winMinN) || el >= winMax {
		l.closeWindow(now)
	}
	l.grow(now)
}

// allowance is how many throttles a spell may cost before the cut: about
// one in a hundred of the calls of a cycle, at least 2; in the slow start,
// kCap or 2% of the last second's successes, so that at a thousand calls a
// second the first estimate is taken from more than 20 answers.
func (l *Limiter) allowance() int {
	if l.slowStart {
		return max(kCap, int(ssAllow*l.ssOK))
	}
	return min(max(1, int(l.cycleBudget())), kCap)
}

// cycleBudget is the throttles a cycle may cost: one in a hundred of its
// calls, about 2k seconds at the limit.
func (l *Limiter) cycleBudget() float64 { return 0.01 * l.limit * 2 * l.k }

// estimateReady reports whether the spell holds the answers a cut waits
// for to estimate the limit: nEstimate, or a tenth of a second's answers
// at the limit, whichever is more. At a thousand calls a second, 20
// answers span 20 ms, and the throttles that made the cut came bunched in
// them: the estimate read up to 10% low now and then, and the plateau sat
// under the limit for a whole cycle (TestAdaptiveLimiterThousandSeeds).
// In the slow start, as many as twice its allowance, in both orders.
func (l *Limiter) estimateReady() bool {
	if !l.slowStart {
		return l.ep.ok+l.ep.thr >= max(nEstimate, int(estimateSpan*l.limit))
	}
	n := max(nEstimate, int(2*ssAllow*l.ssOK))
	if l.ep.ok+l.ep.thr < n {
		return false
	}
	start, _ := l.answers.firstThrottled(l.ep.start, l.start)
	ok, thr := l.answers.since(start, l.start)
	return ok+thr >= n
}

// background is the share of throttles that come whatever the rate: the
// least of the last few blocks of answers taken under the limit, so that a
// block taken over a limit estimated too high does not count, and at least
// what a cut undone for not changing the share showed (bgFloor). Until the
// first cut, up to bgAssumed is taken for background, so that random
// throttles do not end the slow start far below the limit. Under the
// limit, it is at least what the slow start saw before its bucket ran dry
// (startBg): without it, a background of 5% took two throttles in a
// window after the first cut for the limit's, and the cuts that followed
// one another took the rate to half the limit before a block was measured
// (and the least of five blocks of 100 answers, about 2% at 5%, did the
// same later). It is at most bgCap: a share of more, seen under a limit
// estimated too high, is the limit's.
func (l *Limiter) background() (p float64, known bool) {
	if l.slowStart {
		return bgAssumed, false
	}
	start := 0.0
	if l.rate <= l.limit {
		start = l.startBg
	}
	if l.bg.blocks < 2 {
		return min(max(l.bgFloor, start), bgCap), false
	}
	return min(max(l.bg.min(), l.bgFloor, start), bgCap), true
}

// congested reports whether the throttled answers of the window are more
// than the background and chance explain.
func (l *Limiter) congested() bool {
	w := &l.win
	if w.thr == 1 && !l.slowStart && l.rate > l.limit && l.quietBelowLimit() {
		// Probing past the known limit, where (next to) no throttle came
		// for a long while below it: the first is the answer.
		return true
	}
	if w.thr < 2 {
		return false
	}
	p, _ := l.background()
	n := float64(w.n)
	sd := math.Sqrt(n * max(p, pFloor) * (1 - p))
	return float64(w.thr)-n*p > 1+zDetect*sd
}

// quietBelowLimit reports whether so few throttles come below the limit
// that one past it is the limit's: none in the least of the background's
// blocks; or, where a cycle may cost less than one throttle (a limit of
// about 10 calls a second), at most bgSmall of all the blocks' answers and
// no cut undone for more. There a background of 1% (a throttle a block,
// which a limit estimated a few percent high leaves under it) took three
// throttles in a window to tell from the limit, and each probe cost 3 to
// 4% of its cycle's calls. A background of 5% reads 1.5% or less over two
// blocks about once in a hundred.
func (l *Limiter) quietBelowLimit() bool {
	p, known := l.background()
	switch {
	case !known:
		return false
	case p == 0:
		return true
	}
	return l.cycleBudget() < 1 && max(l.bg.pooled(), l.bgFloor) <= bgSmall
}

func (l *Limiter) closeWindow(now time.Time) {
	l.win = window{start: now}
	l.ep = episode{}
}

// estimate returns the rate that got through since the bucket ran dry,
// twice: in the order the answers came (byAnswer) and in the order the
// calls were sent (bySend), each with the number of answers behind it (0:
// no estimate). The service decides in one of the two orders (a front door
// on arrival, ssmsim after its delay); latency jitter reorders answers, so
// that in the other order calls that went through before the bucket ran dry
// seem to have gone through after, and the estimate comes out high. Half a
// success stands in for none, so that a spell of throttles alone says "far
// less than sent", not "nothing".
func (l *Limiter) estimate(now time.Time) (byAnswer, bySend, bound float64, nA, nS, okA, okS int) {
	// Both orders start the spell at a throttle, and the cut comes at one:
	// counting the first would make the share of successes look smaller
	// than it is (T S S T is two successes in three calls, not four).
	share := func(ok, thr int) float64 {
		if ok == 0 {
			return 0.5 / float64(thr)
		}
		return float64(ok) / float64(ok+thr-1)
	}
	// The rate of the calls sent just before the first throttled one went
	// through, plus whatever burst the bucket had saved: a bound.
	start, last := l.answers.firstThrottled(l.ep.start, l.start)
	bound = math.Inf(1)
	if !start.IsZero() {
		bound = l.grants.rateBefore(start, boundCalls, 250*time.Millisecond, l.start)
	}
	if m := l.ep.ok + l.ep.thr; m >= 2 {
		// The calls answered since were sent about one latency earlier.
		lat := time.Duration(l.latency * float64(time.Second))
		from, to := l.ep.start.Add(-lat), now.Add(-lat)
		sent := l.grants.rateBefore(to, max(boundCalls, l.grants.between(from, to, l.start)), to.Sub(from), l.start)
		if !math.IsInf(sent, 1) {
			byAnswer, nA, okA = min(sent*share(l.ep.ok, l.ep.thr), bound), m, l.ep.ok
		}
	}
	ok, thr := l.answers.since(start, l.start)
	if m := ok + thr; m >= 2 {
		if el := last.Sub(start).Seconds(); el > 1e-3 {
			sent := float64(l.grants.between(start, last, l.start)) / el
			bySend, nS, okS = min(sent*share(ok, thr), bound), m, ok
		}
	}
	return byAnswer, bySend, bound, nA, nS, okA, okS
}

// limitEstimate is a running estimate of the service's limit from the
// measurements at successive cuts.
type limitEstimate struct {
	v, w    float64 // the estimate, and the answers behind it
	strikes int     // measurements in a row far off it, all on one side
	up      bool    // the side
}

// add takes a measurement a from n answers, ok of them successes: it is
// averaged in when it agrees with the estimate within its noise, weighing
// each by its successes (a share of successes measured from few successes
// is a poor measure); the estimate moves to it when two in a row disagree
// on the same side (the limit moved), or when it is much better measured.
func (e *limitEstimate) add(a float64, ok, n int) {
	if n < minEstimate/2 || math.IsInf(a, 0) || math.IsNaN(a) {
		return
	}
	w := float64(ok) + 0.5
	e.w *= estimateDecay
	if e.v == 0 || w > 2*e.w {
		e.v, e.w, e.strikes = a, w, 0
		return
	}
	// The relative spread of a share of successes measured from n answers.
	spread := math.Sqrt(float64(n-ok) / (float64(n) * w))
	tol := max(0.2, 2*spread)
	if a > e.v/(1+tol) && a < e.v*(1+tol) {
		e.v = (e.v*e.w + a*w) / (e.w + w)
		e.w += w
		e.strikes = 0
		return
	}
	if spread > maxOutlierSpread {
		return // too poorly measured to say the limit moved
	}
	up := a > e.v
	if e.strikes > 0 && up == e.up {
		e.v, e.w, e.strikes = a, w, 0
		return
	}
	e.strikes, e.up = 1, up
}

// raise moves the estimate up to v, as poorly measured as can be.
func (e *limitEstimate) raise(v float64) {
	if e.v < v {
		e.v, e.w, e.strikes = v, 0.5, 0
	}
}

func (l *Limiter) cut(now time.Time) {
	if !l.slowStart && l.win.n > 0 {
		l.verify = verification{on: true, before: float64(l.win.thr) / float64(l.win.n),
			limit: l.limit, estA: l.estA, estS: l.estS, rateBefore: l.rate, sentBefore: l.sendRate(now), at: now}
	}
	byAnswer, bySend, bound, nA, nS, okA, okS := l.estimate(now)
	l.estA.add(min(byAnswer, l.rate), okA, nA)
	l.estS.add(min(bySend, l.rate), okS, nS)
	w := math.Inf(1)
	for _, e := range []limitEstimate{l.estA, l.estS} {
		if e.v > 0 {
			w = min(w, e.v)
		}
	}
	// Whatever the estimates say, the bucket ran dry while the calls went
	// at the bound.
	w = min(w, bound)
	if l.cuts > 0 && l.rate <= 1.02*l.limit && now.Sub(l.cutAt).Seconds() >= l.k {
		// Throttled on the plateau, before probing past the limit: it is
		// lower than estimated.
		w = min(w, l.rate*plateauStep)
		l.estA.v, l.estS.v = min(l.estA.v, w), min(l.estS.v, w)
	}
	if math.IsInf(w, 1) {
		w = l.rate / 2 // nothing to go by
	}
	if l.fair > 0 {
		// Others share the bucket: each goes to the fair share of what it
		// lets through, at most twice or half its limit, so that a peer
		// that misreports cannot move it far at one cut.
		ref := w
		if l.limit > 0 {
			ref = l.limit
		}
		w = min(max(l.fair, ref/2), 2*ref)
	}
	l.limit = max(w, minRate)
	if l.slowStart {
		// Before the spell that ended it, the slow start went under a
		// bucket that had not run dry: its throttles came whatever the
		// rate.
		if n := l.ssN - (l.ep.ok + l.ep.thr); n >= bgStartAnswers {
			l.startBg = float64(l.ssThr-l.ep.thr) / float64(n)
		}
	}
	l.slowStart = false
	l.cuts++
	l.cutAt = now
	l.capped = time.Time{}
	if l.scale == 0 {
		l.scale = l.rate // the rate when the slow start ended: common to all started together
	} else if min(l.estA.w, l.estS.w) >= scaleWeight {
		// The slow start ends wherever the bucket let it overshoot (a
		// bucket of five seconds' refill lets it reach 15 times a limit
		// of 10); once the limit is measured, the growth is held to a
		// few times it, so that each probe past it costs its throttles
		// over a cycle of seconds, not a cycle of a second.
		l.scale = min(l.scale, scaleCap*l.limit)
	}
	if l.fair > 0 {
		// Growth the same for every process on the bucket, as their
		// limits are: shares converge.
		l.scale = scaleCap * l.limit
	}
	l.k = math.Cbrt(l.limit * (1 - beta) / (l.scale * cubicC))
	l.set(min(beta*l.limit, l.rate))
	l.last = now
	l.guard = l.inflight
	l.win = window{start: now}
}

// binding reports whether the Limiter, not the pool, sets the pace: callers
// wait in line, or the calls went at about the rate over the last second.
func (l *Limiter) binding(now time.Time) bool {
	return l.waiting > 0 || l.sendRate(now) >= 0.9*l.rate
}

// sendRate is the rate of calls let start over the last second.
func (l *Limiter) sendRate(now time.Time) float64 {
	span := min(now.Sub(l.start), time.Second)
	if span <= 0 {
		return l.rate
	}
	return float64(l.grants.between(now.Add(-span), now, l.start)) / span.Seconds()
}

func (l *Limiter) grow(now time.Time) {
	dt := now.Sub(l.last).Seconds()
	if dt <= 0 {
		return
	}
	l.last = now
	var r float64
	if l.slowStart {
		if l.ep.on() {
			return // a throttle: hold until the verdict
		}
		r = l.rate * math.Exp(dt/slowStartE)
	} else {
		if !l.binding(now) {
			// The pool does not use the rate it has: hold the curve, as
			// TCP holds an unused window, so that the rate does not float
			// up unmeasured.
			l.cutAt = l.cutAt.Add(time.Duration(dt * float64(time.Second)))
			return
		}
		// CUBIC: back to the limit in k seconds, then past it, in calls
		// per second that are the same for every process that started
		// with this one (scale), so that processes sharing a bucket
		// converge on equal shares; once a process's limit is measured,
		// its scale is at most scaleCap times it (see cut), and shares
		// converge more slowly.
		t := now.Sub(l.cutAt).Seconds() - l.k
		r = l.limit + l.scale*cubicC*t*t*t
		// Probe at most so far past the estimate; a limit beyond shows as
		// a long spell at the cap without a throttle (longer than a
		// bucket of a few seconds' refill takes to run dry), and the
		// estimate moves up to it.
		if c := capFactor * l.limit; r >= c {
			r = c
			if l.capped.IsZero() {
				l.capped = now
			} else if now.Sub(l.capped).Seconds() >= max(l.k, capSpell.Seconds()) {
				l.limit = c
				l.estA.raise(c)
				l.estS.raise(c)
				l.cutAt = now.Add(-time.Duration(l.k * float64(time.Second)))
				l.capped = time.Time{}
			}
		} else {
			l.capped = time.Time{}
		}
	}
	// Past the limit the pool, not the Limiter, sets the pace: do not run
	// far ahead of the calls actually sent.
	r = min(r, max(2*l.sendRate(now), l.rate))
	l.set(r)
}

func (l *Limiter) set(r float64) {
	old := l.rate
	l.rate = min(max(r, minRate), maxRate)
	if !l.slowStart {
		l.peak = max(l.peak, l.rate)
	}
	if l.rate > old && l.dispatching {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// grantLog keeps the times of the last calls let start, in nanoseconds
// since the Limiter's start, to count them over an interval.
type grantLog struct{ ring[int64] }

func (g *grantLog) add(t time.Time, origin time.Time) { g.push(int64(t.Sub(origin))) }

// between counts the logged grants in [from, to].
func (g *grantLog) between(from, to time.Time, origin time.Time) int {
	f, t := int64(from.Sub(origin)), int64(to.Sub(origin))
	lo := sort.Search(g.n, func(i int) bool { return g.at(i) >= f })
	hi := sort.Search(g.n, func(i int) bool { return g.at(i) > t })
	return max(hi-lo, 0)
}

// rateBefore returns the rate of the grants before t: over the last calls
// grants or span, whichever is longer (+Inf with too little history).
func (g *grantLog) rateBefore(t time.Time, calls int, span time.Duration, origin time.Time) float64 {
	end := int64(t.Sub(origin))
	hi := sort.Search(g.n, func(i int) bool { return g.at(i) >= end }) // grants before t: [0, hi)
	from := end - int64(span)
	lo := hi - calls
	if hi == 0 || lo < 0 || g.at(0) > from {
		return math.Inf(1)
	}
	from = min(from, g.at(lo))
	n := hi - sort.Search(g.n, func(i int) bool { return g.at(i) >= from })
	if n > 0 && end > from {
		return float64(n) / time.Duration(end-from).Seconds()
	}
	return math.Inf(1)
}

// answerLog keeps the last answers, in the order they came: when each call
// was sent and answered (nanoseconds since the Limiter's start), and
// whether it was throttled.
type answerLog struct{ ring[answerRec] }

type answerRec struct {
	sent, at  int64
	throttled bool
	oks       int // calls answered, not throttled, up to this one
}

// okRate returns the calls answered, not throttled, per second over the
// span before now.
func (g *answerLog) okRate(now time.Time, span time.Duration, origin time.Time) float64 {
	if g.n == 0 {
		return 0
	}
	f := int64(now.Add(-span).Sub(origin))
	i := sort.Search(g.n, func(i int) bool { return g.at(i).at >= f })
	if i == 0 {
		// The log holds less than span: over span still, so that the
		// first answers, a moment apart, are not a great rate.
		return float64(g.at(g.n-1).oks-g.at(0).oks+1) / span.Seconds()
	}
	return float64(g.at(g.n-1).oks-g.at(i-1).oks) / span.Seconds()
}

// firstThrottled returns the earliest send time of a throttled call
// answered at from or later (zero if none), and the latest send time of any
// call answered since.
func (g *answerLog) firstThrottled(from time.Time, origin time.Time) (first, last time.Time) {
	if from.IsZero() {
		return
	}
	f := int64(from.Sub(origin))
	var fi, la int64 = math.MaxInt64, math.MinInt64
	for i := g.n - 1; i >= 0; i-- {
		r := g.at(i)
		if r.at < f {
			break
		}
		if r.throttled {
			fi = min(fi, r.sent)
		}
		la = max(la, r.sent)
	}
	if fi == math.MaxInt64 {
		return time.Time{}, time.Time{}
	}
	return origin.Add(time.Duration(fi)), origin.Add(time.Duration(la))
}

// since counts the answers to calls sent at from or later.
func (g *answerLog) since(from time.Time, origin time.Time) (ok, thr int) {
	if from.IsZero() {
		return
	}
	f := int64(from.Sub(origin))
	for i := g.n - 1; i >= 0; i-- {
		r := g.at(i)
		if r.at < f {
			break // answered before from, so sent before it: none older qualify
		}
		if r.sent < f {
			continue
		}
		if r.throttled {
			thr++
		} else {
			ok++
		}
	}
	return ok, thr
}

// ring keeps the last ringSize values pushed, oldest first; it grows as
// needed, so that a Limiter that sees few calls holds little.
type ring[T any] struct {
	v    []T
	head int // the oldest, once full
	n    int
}

const ringSize = 4096

func (r *ring[T]) push(x T) {
	if r.n < ringSize {
		r.v = append(r.v, x)
		r.n++
		return
	}
	r.v[r.head] = x
	r.head = (r.head + 1) % ringSize
}

// at returns the i-th oldest value.
func (r *ring[T]) at(i int) T {
	if r.n < ringSize {
		return r.v[i]
	}
	return r.v[(r.head+i)%ringSize]
}

// bgBlocks keeps the throttled share of the last blocks of answers.
type bgBlocks struct {
	n, thr int        // the block being filled
	share  [5]float64 // the last complete blocks, a ring
	blocks int        // complete blocks so far
}

func (b *bgBlocks) add(throttled bool) {
	b.n++
	if throttled {
		b.thr++
	}
	if b.n == bgBlock {
		b.share[b.blocks%len(b.share)] = float64(b.thr) / float64(b.n)
		b.blocks++
		b.n, b.thr = 0, 0
	}
}

// pooled is the throttled share of all the last complete blocks.
func (b *bgBlocks) pooled() float64 {
	n := min(b.blocks, len(b.share))
	if n == 0 {
		return 1
	}
	var sum float64
	for i := range n {
		sum += b.share[i]
	}
	return sum / float64(n)
}

func (b *bgBlocks) min() float64 {
	m := 1.0
	for i := range min(b.blocks, len(b.share)) {
		m = min(m, b.share[i])
	}
	return m
}
