// Package extsort sorts more values than should be held in memory at once.
// Up to a bound the values stay in memory and are sorted there; past it each
// full batch is sorted and written to a temporary file (a run), and the runs
// are merged as the sorted values are read. Memory is the bound's values
// plus a read buffer per run, whatever the number of values.
package extsort

import (
	"bufio"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
)

// Codec turns a value into bytes and back for the runs on disk. Append
// appends v's encoding to b; Read reads one value and returns io.EOF,
// unwrapped, when r is at its end before the value's first byte.
type Codec[T any] struct {
	Append func(b []byte, v T) []byte
	Read   func(r *bufio.Reader) (T, error)
}

// Sorter collects values with Add and yields them in order with Sorted. It is
// not safe for concurrent use. Close removes its files; a Sorter that never
// passed its bound has none.
type Sorter[T any] struct {
	cmp   func(a, b T) int
	codec Codec[T]
	max   int
	dir   string
	mem   []T
	runs  []*os.File
	enc   []byte
	n     int
}

// runBuffer is the read buffer of each run while merging.
const runBuffer = 64 << 10

// New returns a Sorter that holds at most limit values in memory, writes its
// runs to dir (the system's temporary directory when ""), and orders values
// by cmp. cmp must be a total order for the result to be the same from run
// to run; among equal values, those added first come first.
func New[T any](limit int, dir string, cmp func(a, b T) int, codec Codec[T]) *Sorter[T] {
	return &Sorter[T]{cmp: cmp, codec: codec, max: max(limit, 1), dir: dir}
}

// Add adds v. The error is that of writing a run.
func (s *Sorter[T]) Add(v T) error {
	if len(s.mem) >= s.max {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.mem = append(s.mem, v)
	s.n++
	return nil
}

// Len returns how many values were added.
func (s *Sorter[T]) Len() int { return s.n }

// Spilled reports whether values went to disk.
func (s *Sorter[T]) Spilled() bool { return len(s.runs) > 0 }

func (s *Sorter[T]) spill() error {
	slices.SortStableFunc(s.mem, s.cmp)
	f, err := TempFile(s.dir, "auditor-sort-")
	if err != nil {
		return fmt.Errorf("sorting: %w", err)
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, runBuffer)
	for _, v := range s.mem {
		s.enc = s.codec.Append(s.enc[:0], v)
		if _, err := w.Write(s.enc); err != nil {
			return fmt.Errorf("sorting: %w: writing %s: %w", ErrScratch, f.Name(), err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sorting: %w: writing %s: %w", ErrScratch, f.Name(), err)
	}
	clear(s.mem)
	s.mem = s.mem[:0]
	return nil
}

// Sorted yields every value added, in order, and then, if reading a run
// failed, one zero value with the error. It may be called more than once;
// Add must not be called after it.
func (s *Sorter[T]) Sorted() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		if len(s.runs) == 0 {
			slices.SortStableFunc(s.mem, s.cmp)
			for _, v := range s.mem {
				if !yield(v, nil) {
					return
				}
			}
			return
		}
		if len(s.mem) > 0 {
			if err := s.spill(); err != nil {
				var zero T
				yield(zero, err)
				return
			}
		}
		m := &merge[T]{cmp: s.cmp}
		for i, f := range s.runs {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				var zero T
				yield(zero, fmt.Errorf("sorting: %w: %w", ErrScratch, err))
				return
			}
			c := &cursor[T]{r: bufio.NewReaderSize(f, runBuffer), run: i}
			if ok, err := c.next(s.codec); err != nil {
				var zero T
				yield(zero, err)
				return
			} else if ok {
				m.cs = append(m.cs, c)
			}
		}
		heap.Init(m)
		for m.Len() > 0 {
			c := m.cs[0]
			if !yield(c.v, nil) {
				return
			}
			ok, err := c.next(s.codec)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if ok {
				heap.Fix(m, 0)
			} else {
				heap.Pop(m)
			}
		}
	}
}

// ErrScratch is wrapped by the errors of temporary files: one that could
// not be created, written or read back. Their cause is the machine's (a
// temporary directory that is missing, read-only or full), not the data's.
var ErrScratch = errors.New("temporary files")

// TempFile creates a file for this process alone in dir (the system's
// temporary directory when ""), unlinked at once where the system allows
// it, so that a process killed while it is open leaves nothing behind; its
// closer must still remove it by name where the system did not. The error
// wraps ErrScratch and names TMPDIR when dir is "".
func TempFile(dir, prefix string) (*os.File, error) {
	f, err := os.CreateTemp(dir, prefix)
	if err != nil {
		where := "TMPDIR"
		if dir != "" {
			where = dir
		}
		return nil, fmt.Errorf("%w: creating one in %s: %w", ErrScratch, where, err)
	}
	_ = os.Remove(f.Name())
	return f, nil
}

// Close removes the runs.
func (s *Sorter[T]) Close() error {
	var errs []error
	for _, f := range s.runs {
		errs = append(errs, f.Close())
		if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.runs, s.mem = nil, nil
	return errors.Join(errs...)
}

type cursor[T any] struct {
	r   *bufio.Reader
	v   T
	run int
}

func (c *cursor[T]) next(codec Codec[T]) (bool, error) {
	v, err := codec.Read(c.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sorting: %w: reading a run: %w", ErrScratch, err)
	}
	c.v = v
	return true, nil
}

// merge is a heap of run cursors, by value and then by run, so that equal
// values come in the order they were added.
type merge[T any] struct {
	cmp func(a, b T) int
	cs  []*cursor[T]
}

func (m *merge[T]) Len() int { return len(m.cs) }
func (m *merge[T]) Less(i, j int) bool {
	if c := m.cmp(m.cs[i].v, m.cs[j].v); c != 0 {
		return c < 0
	}
	return m.cs[i].run < m.cs[j].run
}
func (m *merge[T]) Swap(i, j int) { m.cs[i], m.cs[j] = m.cs[j], m.cs[i] }
func (m *merge[T]) Push(x any)    { m.cs = append(m.cs, x.(*cursor[T])) }
func (m *merge[T]) Pop() any {
	c := m.cs[len(m.cs)-1]
	m.cs = m.cs[:len(m.cs)-1]
	return c
}
