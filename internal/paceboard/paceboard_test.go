package paceboard

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/outdir"
)

// clock is a fake clock the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// shards returns n boards of one list, in directories beside each other
// (RUN/shard-K), on one fake clock; the test ticks them by hand.
func shards(t *testing.T, n int, list string) ([]*Board, *clock) {
	t.Helper()
	run := t.TempDir()
	c := &clock{time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	var bs []*Board
	for k := range n {
		dir := filepath.Join(run, "shard-"+string(rune('0'+k)))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bs = append(bs, newBoard(dir, list, k, n, c.now))
	}
	return bs, c
}

// round moves the clock half a second and ticks every board.
func round(c *clock, bs ...*Board) {
	c.t = c.t.Add(every)
	for _, b := range bs {
		b.tick()
	}
}

// TestShardsHearEachOther: shards beside each other hear each other's pace
// on the same account-region only, once a file has changed since it was
// first seen; a shard that stops writing is dropped two seconds later, and
// one whose file is removed (Close) at once.
func TestShardsHearEachOther(t *testing.T) {
	bs, c := shards(t, 3, "sha256:list")
	a := bs[0].For("111122223333", "us-east-1")
	b := bs[1].For("111122223333", "us-east-1")
	other := bs[2].For("111122223333", "eu-west-1")
	a.Exchange(c.t, audit.Pace{OK: 40, Wants: true, Cuts: 2})
	b.Exchange(c.t, audit.Pace{OK: 60, Wants: true, Cuts: 1})
	other.Exchange(c.t, audit.Pace{OK: 99, Wants: true})
	round(c, bs...)
	if got := a.Exchange(c.t, audit.Pace{OK: 40, Wants: true, Cuts: 2}); len(got) != 0 {
		t.Errorf("a file seen once counted (%v): a shard killed earlier leaves one", got)
	}
	round(c, bs...)
	round(c, bs...) // a file first seen in the round before changes in this one
	got := a.Exchange(c.t, audit.Pace{OK: 40, Wants: true, Cuts: 2})
	if len(got) != 1 || got[0] != (audit.Pace{OK: 60, Wants: true, Cuts: 1, Peer: 1}) {
		t.Fatalf("shard 0 heard %v on us-east-1, want shard 1's pace alone (shard 2 is on eu-west-1)", got)
	}
	if got := other.Exchange(c.t, audit.Pace{}); len(got) != 0 {
		t.Errorf("shard 2 heard %v on eu-west-1, where no other shard is", got)
	}
	// Shard 1 stops writing (killed): two seconds after its last write was
	// read, it no longer counts.
	for range 5 {
		round(c, bs[0], bs[2])
	}
	if got := a.Exchange(c.t, audit.Pace{}); len(got) != 0 {
		t.Errorf("shard 0 still hears %v from a shard silent for 2 s", got)
	}
	// Shard 2 closes: its file is gone.
	bs[2].Close()
	if _, err := os.Stat(filepath.Join(bs[2].dir, outdir.PaceFile)); !os.IsNotExist(err) {
		t.Errorf("Close left its pace file: %v", err)
	}
}

// TestClosedShardIsDone: a shard whose file is removed as it closes is
// said to be done on each account-region it spoke of, for two seconds, so
// that the others take its room at once (audit.Pace.Done); one that only
// stops writing (killed) is dropped without it: its calls may still go.
func TestClosedShardIsDone(t *testing.T) {
	bs, c := shards(t, 3, "sha256:list")
	key := func(b *Board) audit.Peers { return b.For("111122223333", "us-east-1") }
	heard := func() (done, running []int) {
		for _, p := range key(bs[0]).Exchange(c.t, audit.Pace{}) {
			if p.Done {
				done = append(done, p.Peer)
			} else {
				running = append(running, p.Peer)
			}
		}
		return done, running
	}
	for range 3 {
		for k, b := range bs {
			key(b).Exchange(c.t, audit.Pace{OK: float64(10 * (k + 1)), Recent: float64(10 * (k + 1)), Wants: true})
		}
		round(c, bs...)
	}
	if done, running := heard(); len(done) != 0 || len(running) != 2 {
		t.Fatalf("shard 0 heard done %v, running %v; want shards 1 and 2 running", done, running)
	}
	bs[1].Close() // ends; shard 2 stops writing (killed)
	round(c, bs[0])
	if done, running := heard(); fmt.Sprint(done) != "[1]" || fmt.Sprint(running) != "[2]" {
		t.Errorf("after shard 1 closed: done %v, running %v; want shard 1 done, shard 2 running", done, running)
	}
	for range 4 {
		round(c, bs[0])
	}
	if done, running := heard(); len(done) != 0 || len(running) != 0 {
		t.Errorf("two seconds on: done %v, running %v; want neither (shard 2 silent, not done)", done, running)
	}
}

// TestFinishedKeyIsDone: a limiter that says Done on its account-region
// (every target there audited) while its shard goes on with another is
// heard as done there by the others, at least as long as a shard that
// closed is, so that they take its pace at once; and no longer once it
// has been quiet as long as any silent limiter, while its pace elsewhere
// still is.
func TestFinishedKeyIsDone(t *testing.T) {
	bs, c := shards(t, 2, "sha256:list")
	finished := func(b *Board) audit.Peers { return b.For("111122223333", "us-east-1") }
	going := func(b *Board) audit.Peers { return b.For("111122223333", "eu-west-1") }
	for range 3 {
		for _, b := range bs {
			finished(b).Exchange(c.t, audit.Pace{OK: 50, Recent: 50, Wants: true})
			going(b).Exchange(c.t, audit.Pace{OK: 20, Recent: 20, Wants: true})
		}
		round(c, bs...)
	}
	if got := finished(bs[1]).Exchange(c.t, audit.Pace{OK: 50, Recent: 50, Wants: true}); len(got) != 1 || got[0].Done {
		t.Fatalf("shard 1 heard %v on us-east-1, want shard 0 running", got)
	}
	finished(bs[0]).Exchange(c.t, audit.Pace{Done: true})
	for i := range 24 {
		going(bs[0]).Exchange(c.t, audit.Pace{OK: 20, Recent: 20, Wants: true})
		round(c, bs...)
		got := finished(bs[1]).Exchange(c.t, audit.Pace{OK: 50, Recent: 50, Wants: true})
		switch {
		case every*time.Duration(i) < fresh && (len(got) != 1 || got[0] != audit.Pace{Done: true, Peer: 0}):
			t.Errorf("round %d after shard 0 finished us-east-1: shard 1 heard %v there, want shard 0 done", i, got)
		case i >= 20 && len(got) != 0:
			t.Errorf("round %d (%v after shard 0 finished us-east-1): shard 1 still hears %v there", i, every*time.Duration(i+1), got)
		}
		if got := going(bs[1]).Exchange(c.t, audit.Pace{OK: 20, Recent: 20, Wants: true}); len(got) != 1 || got[0].Done {
			t.Errorf("round %d: shard 1 heard %v on eu-west-1, want shard 0 running", i, got)
		}
	}
}

// TestOnlyShardsOfTheListCount: a file of another list, of the list split
// another number of ways, of this very shard (a copy), or of no shard at
// all (garbage, too large, a FIFO, a link) is not heard; none of them
// blocks the reader.
func TestOnlyShardsOfTheListCount(t *testing.T) {
	run := t.TempDir()
	c := &clock{time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	mk := func(name string) string {
		d := filepath.Join(run, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	me := newBoard(mk("shard-0"), "sha256:list", 0, 4, c.now)
	boards := []*Board{
		newBoard(mk("other-list"), "sha256:other", 1, 4, c.now),
		newBoard(mk("other-split"), "sha256:list", 1, 3, c.now),
		newBoard(mk("same-shard"), "sha256:list", 0, 4, c.now),
		newBoard(mk("out-of-range"), "sha256:list", 7, 4, c.now),
	}
	for _, b := range boards {
		b.For("1", "r").Exchange(c.t, audit.Pace{OK: 10, Wants: true})
	}
	os.WriteFile(filepath.Join(mk("garbage"), outdir.PaceFile), []byte("{not json"), 0o644)
	big := make([]byte, maxFile+10)
	for i := range big {
		big[i] = ' '
	}
	os.WriteFile(filepath.Join(mk("big"), outdir.PaceFile), big, 0o644)
	if err := mkfifo(filepath.Join(mk("fifo"), outdir.PaceFile)); err != nil {
		t.Logf("no FIFO here (%v): that case is not tried", err)
	}
	os.Symlink("/dev/zero", filepath.Join(mk("link"), outdir.PaceFile))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 4 {
			round(c, append([]*Board{me}, boards...)...)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading the directories beside it blocked")
	}
	if got := me.For("1", "r").Exchange(c.t, audit.Pace{}); len(got) != 0 {
		t.Errorf("heard %v from files that are not another shard's of the list", got)
	}
}

// TestStartWritesAndCloseRemoves: a started Board writes its file into its
// own directory, and Close removes it.
func TestStartWritesAndCloseRemoves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard-0")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := Start(dir, "sha256:list", 0, 2)
	b.For("1", "r").Exchange(time.Now(), audit.Pace{OK: 5, Wants: true})
	path := filepath.Join(dir, outdir.PaceFile)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if f, ok := readFile(path); ok {
			if f.Pace["1/r"].OK != 5 || f.Shard != 0 || f.Shards != 2 {
				t.Errorf("pace file %+v, want shard 0 of 2 at 5 calls a second on 1/r", f)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no pace file written in 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Close()
	b.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Close left the pace file: %v", err)
	}
}

// TestWhatIsNotHeard: a limiter that stopped saying its pace (its
// account-region done) is left out of the file ten seconds on, and one
// that speaks every few seconds (a small bucket) is not; a file of
// another user is not heard; a link put where the temporary file goes is
// not written through; and hundreds of other directories beside the
// shards do not hide them.
func TestWhatIsNotHeard(t *testing.T) {
	bs, c := shards(t, 2, "sha256:list")
	done := bs[0].For("1", "done")
	going := bs[0].For("1", "going")
	sparse := bs[0].For("1", "sparse")
	done.Exchange(c.t, audit.Pace{OK: 25, Wants: true})
	for i := range 24 {
		going.Exchange(c.t, audit.Pace{OK: 30, Wants: true})
		if i%5 == 0 {
			sparse.Exchange(c.t, audit.Pace{OK: 0.4, Wants: true})
		}
		round(c, bs...)
		if got := bs[1].For("1", "sparse").Exchange(c.t, audit.Pace{}); i >= 2 && len(got) != 1 {
			t.Errorf("round %d: shard 1 hears %v where shard 0 paces every 2.5 s, want its pace", i, got)
		}
	}
	if got := bs[1].For("1", "done").Exchange(c.t, audit.Pace{}); len(got) != 0 {
		t.Errorf("12 s after shard 0 last paced an account-region, shard 1 still hears %v there", got)
	}
	if got := bs[1].For("1", "going").Exchange(c.t, audit.Pace{}); len(got) != 1 {
		t.Errorf("shard 1 hears %v where shard 0 still paces, want its pace", got)
	}

	// A link where the temporary file goes is replaced, not followed.
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	if err := os.Symlink(target, filepath.Join(bs[0].dir, outdir.PaceTmp)); err != nil {
		t.Fatal(err)
	}
	round(c, bs...)
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the pace was written through a link: its target holds %q", b)
	}

	// Another user's file is not a shard's.
	if os.Geteuid() != 0 {
		t.Log("not root: a file of another user cannot be made here, that case is not tried")
	} else {
		if err := os.Chown(filepath.Join(bs[0].dir, outdir.PaceFile), 4242, 4242); err != nil {
			t.Fatal(err)
		}
		// Shard 0 must not rewrite it as its own: stop ticking it.
		for range 2 {
			round(c, bs[1])
		}
		if got := bs[1].For("1", "going").Exchange(c.t, audit.Pace{}); len(got) != 0 {
			t.Errorf("shard 1 hears %v from a file of another user", got)
		}
	}

	// Many other directories beside the shards.
	bs, c = shards(t, 2, "sha256:list")
	for i := range 700 {
		if err := os.Mkdir(filepath.Join(bs[0].parent, fmt.Sprintf("2026-%04d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		bs[1].For("1", "r").Exchange(c.t, audit.Pace{OK: 7, Wants: true})
		round(c, bs...)
	}
	if got := bs[0].For("1", "r").Exchange(c.t, audit.Pace{}); len(got) != 1 {
		t.Errorf("beside 700 other directories, shard 0 hears %v, want shard 1", got)
	}
}
