package extsort_test

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/internal/extsort"
)

// item is a key with its place in the input, so that the test sees whether
// equal keys keep the order they were added in.
type item struct{ key, seq uint64 }

var itemCodec = extsort.Codec[item]{
	Append: func(b []byte, v item) []byte {
		return binary.AppendUvarint(binary.AppendUvarint(b, v.key), v.seq)
	},
	Read: func(r *bufio.Reader) (item, error) {
		k, err := binary.ReadUvarint(r)
		if err != nil {
			return item{}, err
		}
		s, err := binary.ReadUvarint(r)
		if err != nil {
			return item{}, io.ErrUnexpectedEOF
		}
		return item{k, s}, nil
	},
}

func byKey(a, b item) int { return cmp.Compare(a.key, b.key) }

func collect(t *testing.T, s *extsort.Sorter[item]) []item {
	t.Helper()
	var got []item
	for v, err := range s.Sorted() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	return got
}

func TestSortedAtEveryBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name         string
		n, keys, lim int
		spilled      bool
	}{
		{name: "empty", n: 0, keys: 1, lim: 4},
		{name: "in memory", n: 1000, keys: 50, lim: 1000},
		{name: "one a run", n: 97, keys: 10, lim: 1, spilled: true},
		{name: "small runs", n: 1000, keys: 50, lim: 7, spilled: true},
		{name: "a last short run", n: 1001, keys: 1 << 40, lim: 100, spilled: true},
		{name: "all equal", n: 500, keys: 1, lim: 64, spilled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := extsort.New(tc.lim, dir, byKey, itemCodec)
			var want []item
			for i := range tc.n {
				v := item{key: rng.Uint64N(uint64(tc.keys)), seq: uint64(i)}
				want = append(want, v)
				if err := s.Add(v); err != nil {
					t.Fatal(err)
				}
			}
			slices.SortStableFunc(want, byKey)
			if s.Spilled() != tc.spilled || s.Len() != tc.n {
				t.Errorf("Spilled() = %v, Len() = %d; want %v, %d", s.Spilled(), s.Len(), tc.spilled, tc.n)
			}
			for pass := range 2 {
				if got := collect(t, s); !slices.Equal(got, want) {
					t.Fatalf("pass %d: %d values, want %d; first difference at %d", pass, len(got), len(want), firstDiff(got, want))
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("runs left in the directory while sorting: %d files", len(ents))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func firstDiff(a, b []item) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestSortedStopsEarly(t *testing.T) {
	s := extsort.New(3, t.TempDir(), byKey, itemCodec)
	defer s.Close()
	for i := range 20 {
		if err := s.Add(item{key: uint64(20 - i)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []uint64
	for v, err := range s.Sorted() {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, v.key); len(got) == 3 {
			break
		}
	}
	if want := []uint64{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSortedReportsABadRun(t *testing.T) {
	bad := errors.New("bad value")
	codec := itemCodec
	read := codec.Read
	codec.Read = func(r *bufio.Reader) (item, error) {
		v, err := read(r)
		if err == nil && v.key == 13 {
			return item{}, bad
		}
		return v, err
	}
	s := extsort.New(4, t.TempDir(), byKey, codec)
	defer s.Close()
	for i := range 30 {
		if err := s.Add(item{key: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	var last error
	for _, err := range s.Sorted() {
		if err != nil {
			last = err
			continue
		}
		n++
	}
	if !errors.Is(last, bad) {
		t.Errorf("error %v, want %v", last, bad)
	}
	if n > 13 {
		t.Errorf("%d values before the error, want at most 13", n)
	}
}

func TestAddFailsWithoutADirectory(t *testing.T) {
	s := extsort.New(2, t.TempDir()+"/missing", byKey, itemCodec)
	defer s.Close()
	for k := range 2 {
		if err := s.Add(item{key: uint64(k)}); err != nil {
			t.Fatalf("Add %d, within the bound: %v", k, err)
		}
	}
	if err := s.Add(item{key: 2}); !errors.Is(err, extsort.ErrScratch) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Add spilled into a missing directory: error %v, want ErrScratch and ErrNotExist", err)
	}
}
