// Package paceboard lets the shards of one list tell each other their pace
// on each account-region, so that the adaptive limiters of shards that
// share an account-region's limit split it evenly (audit.Peers). Alone,
// each shard takes a part of the limit in proportion to where its start
// left it, and the parts stay apart (BENCHMARKS.md, "Processes sharing one
// bucket").
//
// Each shard writes a small file into its own output directory every half
// second, and reads the same file in the directories beside it: the shards
// of a run write beside each other (RUN/shard-K), as the Kubernetes and
// AWS Batch jobs in deploy/ do. Only a file of the same list, split as
// many ways, from another shard, that changed within the last two seconds
// (by this process's clock, not the file's) counts. A shard that finds
// none paces alone, as before.
package paceboard

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/outdir"
	"github.com/auditor-dev/auditor/internal/owner"
)

const (
	every      = 500 * time.Millisecond // how often the file is written and the others read
	fresh      = 2 * time.Second        // a file unchanged for this long is of a shard that ended
	quiet      = 10 * time.Second       // a limiter silent this long is done with its account-region
	maxFile    = 64 << 10               // a larger file is not a shard's
	maxShards  = 512                    // shards heard, at most
	maxEntries = 8192                   // entries beside this directory looked at, at most
	maxOK      = 1e6                    // calls a second: a larger pace is not a shard's
)

// ident says which shard of which list wrote a file.
type ident struct {
	List   string `json:"list"`
	Shards int    `json:"shards"`
	Shard  int    `json:"shard"`
}

// file is what a shard writes: its pace on each account-region
// ("ACCOUNT/REGION"), and a count that changes at every write.
type file struct {
	ident
	Seq  int64                 `json:"seq"`
	Pace map[string]audit.Pace `json:"pace"`
}

// said is a limiter's last pace, and when it said it: one that stopped
// is left out of the file once it is quiet. A limiter whose
// account-region is done while its shard goes on says so last
// (audit.Pace.Done): the others hear it done until then.
type said struct {
	pace audit.Pace
	at   time.Time
}

// shardKeys is a shard, the account-regions it spoke of, and when it was
// found gone.
type shardKeys struct {
	shard int
	keys  []string
	at    time.Time
}

// heard is what a directory's file said last, and when that changed.
type heard struct {
	seq int64
	at  time.Time
}

// Board is a shard's side of the exchange. Its methods are safe for
// concurrent use.
type Board struct {
	dir, parent, self string
	id                ident
	now               func() time.Time

	mu     sync.Mutex
	mine   map[string]said // by account-region
	others map[string][]audit.Pace
	seen   map[string]heard     // by directory name
	live   map[string]shardKeys // the shards heard at the last read, by directory name
	gone   map[string]shardKeys // those whose file was removed since, and when
	seq    int64

	stop, done chan struct{}
	running    bool // the loop was started
	closing    sync.Once
}

// Start begins the exchange for shard k of n of the list whose digest is
// list, writing into dir (the shard's output directory, which it owns).
// Close ends it.
func Start(dir, list string, k, n int) *Board {
	b := newBoard(dir, list, k, n, time.Now)
	b.running = true
	go b.loop()
	return b
}

func newBoard(dir, list string, k, n int, now func() time.Time) *Board {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = filepath.Clean(dir)
	}
	return &Board{
		dir: abs, parent: filepath.Dir(abs), self: filepath.Base(abs),
		id: ident{List: list, Shards: n, Shard: k}, now: now,
		mine: map[string]said{}, others: map[string][]audit.Pace{}, seen: map[string]heard{},
		live: map[string]shardKeys{}, gone: map[string]shardKeys{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// For returns the exchange of one account-region's limiter.
func (b *Board) For(account, region string) audit.Peers {
	return peer{b, account + "/" + region}
}

type peer struct {
	b   *Board
	key string
}

// Exchange hands over this shard's pace and returns the others' on the same
// account-region, as last read. It does not block on the files.
func (p peer) Exchange(_ time.Time, mine audit.Pace) []audit.Pace {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	p.b.mine[p.key] = said{mine, p.b.now()}
	return slices.Clone(p.b.others[p.key])
}

// Close ends the exchange and removes the shard's file; the shards beside
// it then pace without it. A file system that hangs (a FIFO put in a
// sibling's place) holds Close a second at most. Close may be called more
// than once.
func (b *Board) Close() {
	b.closing.Do(func() {
		close(b.stop)
		if b.running {
			select {
			case <-b.done:
			case <-time.After(time.Second):
			}
		}
		os.Remove(filepath.Join(b.dir, outdir.PaceFile))
		os.Remove(filepath.Join(b.dir, outdir.PaceTmp))
	})
}

func (b *Board) loop() {
	defer close(b.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.tick()
		}
	}
}

// tick writes this shard's file and reads the others'.
func (b *Board) tick() {
	now := b.now()
	b.mu.Lock()
	b.seq++
	out := file{ident: b.id, Seq: b.seq, Pace: make(map[string]audit.Pace, len(b.mine))}
	for k, v := range b.mine {
		// A shard's limiter speaks at each answer: on a small bucket, or
		// in backoff, it may go seconds without one.
		if now.Sub(v.at) < quiet {
			out.Pace[k] = v.pace
		}
	}
	b.mu.Unlock()
	if data, err := json.Marshal(out); err == nil {
		// Best effort: a shard that cannot write its pace paces alone.
		b.write(data)
	}
	others := b.read()
	b.mu.Lock()
	b.others = others
	b.mu.Unlock()
}

// write puts data in the shard's file, whole: through a new temporary file
// (not one a link or a FIFO put in its place) renamed over it.
func (b *Board) write(data []byte) {
	tmp := filepath.Join(b.dir, outdir.PaceTmp)
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil && cerr == nil {
		os.Rename(tmp, filepath.Join(b.dir, outdir.PaceFile))
		return
	}
	os.Remove(tmp)
}

// read returns the paces of the shards beside this one that are still
// running, by account-region; each pace says which shard it is of
// (audit.Pace.Peer), and whether the shard is done there while it goes on
// elsewhere (audit.Pace.Done, as its limiter said). A shard heard at the
// last read whose file is gone since (removed as it closed) is said to be
// done (audit.Pace.Done), for as long as a file stays fresh, so that the
// others take its room at once; one whose file is only stale (killed, or
// on a slow volume) is not.
func (b *Board) read() map[string][]audit.Pace {
	out := map[string][]audit.Pace{}
	now := b.now()
	live := map[string]shardKeys{}
	defer func() {
		for dir, sk := range b.live {
			if _, ok := live[dir]; ok {
				continue
			}
			if _, err := os.Lstat(filepath.Join(b.parent, dir, outdir.PaceFile)); errors.Is(err, fs.ErrNotExist) {
				sk.at = now
				b.gone[dir] = sk
			}
		}
		b.live = live
		for dir, sk := range b.gone {
			if now.Sub(sk.at) >= fresh {
				delete(b.gone, dir)
				continue
			}
			if _, ok := live[dir]; ok {
				continue // a shard started again in its place
			}
			for _, k := range sk.keys {
				out[k] = append(out[k], audit.Pace{Done: true, Peer: sk.shard})
			}
		}
	}()
	entries, err := os.ReadDir(b.parent)
	if err != nil {
		return out
	}
	shards := map[int]bool{}
	for i, e := range entries {
		if i >= maxEntries || len(shards) >= maxShards {
			break
		}
		if !e.IsDir() || e.Name() == b.self {
			continue
		}
		f, ok := readFile(filepath.Join(b.parent, e.Name(), outdir.PaceFile))
		if !ok || f.List != b.id.List || f.Shards != b.id.Shards || f.Shard == b.id.Shard || f.Shard < 0 || f.Shard >= f.Shards || shards[f.Shard] {
			continue
		}
		h, known := b.seen[e.Name()]
		switch {
		case !known:
			// First seen: fresh only once it changes, so that the file
			// of a shard killed earlier does not count.
			b.seen[e.Name()] = heard{seq: f.Seq}
			continue
		case f.Seq != h.seq:
			h = heard{f.Seq, now}
			b.seen[e.Name()] = h
		}
		if now.Sub(h.at) >= fresh {
			continue
		}
		shards[f.Shard] = true
		sk := shardKeys{shard: f.Shard}
		for k := range f.Pace {
			sk.keys = append(sk.keys, k)
		}
		live[e.Name()] = sk
		for k, p := range f.Pace {
			if p.OK >= 0 && p.OK <= maxOK && p.Recent >= 0 && p.Recent <= maxOK && p.Cuts >= 0 {
				p.Peer = f.Shard
				out[k] = append(out[k], p)
			}
		}
	}
	return out
}

// readFile reads a shard's file: false for anything that is not a small
// regular file of this user's, of the right form.
func readFile(path string) (file, bool) {
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() > maxFile || !owner.Mine(st) {
		return file{}, false
	}
	fd, err := openPace(path)
	if err != nil {
		return file{}, false
	}
	defer fd.Close()
	if st, err := fd.Stat(); err != nil || !st.Mode().IsRegular() || !owner.Mine(st) {
		return file{}, false
	}
	data, err := io.ReadAll(io.LimitReader(fd, maxFile+1))
	if err != nil || len(data) > maxFile {
		return file{}, false
	}
	var f file
	if json.Unmarshal(data, &f) != nil {
		return file{}, false
	}
	return f, true
}
