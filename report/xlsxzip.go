package report

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/auditor-dev/auditor/internal/extsort"
)

// sortedZip is the zip writer report.xlsx goes through. excelize writes a
// workbook's streamed sheets in the order of a map, so the same record
// would give other bytes each time it is rendered, and a report's hash
// could not be checked against its record. sortedZip compresses each part
// into a spool file as excelize writes it, then writes the parts to out in
// name order ([Content_Types].xml first, as readers that sniff a file's
// type expect), copied compressed: the second pass costs a copy of the
// compressed workbook, not a second compression.
type sortedZip struct {
	out   io.Writer
	spool *os.File
	sink  *spoolSink
	parts []spooledPart
	cur   *partWriter
	fw    *flate.Writer
}

// spoolSink is what the parts are compressed into: the spool, buffered,
// since flate writes a few hundred bytes at a time.
type spoolSink struct {
	w  *bufio.Writer
	at int64 // the bytes written so far
}

func (s *spoolSink) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	s.at += int64(n)
	if err != nil {
		err = fmt.Errorf("%w: writing the parts of the workbook: %w", extsort.ErrScratch, err)
	}
	return n, err
}

// spooledPart is one part's compressed bytes in the spool.
type spooledPart struct {
	name      string
	off, size int64
	crc       uint32
	raw       uint64
}

// contentTypesPart is the part whose Default elements excelize lists in
// the order of a map; sortedZip sorts them.
const contentTypesPart = "[Content_Types].xml"

// xlsxDeflateLevel is the level archive/zip's own Deflate writer uses.
const xlsxDeflateLevel = 5

func newSortedZip(out io.Writer, tmpDir string) (*sortedZip, error) {
	spool, err := extsort.TempFile(tmpDir, "auditor-xlsx-*")
	if err != nil {
		return nil, err
	}
	return &sortedZip{out: out, spool: spool, sink: &spoolSink{w: bufio.NewWriterSize(spool, 64<<10)}}, nil
}

// partWriter is what Create returns: it compresses into the spool, or, for
// the content types, keeps the part to sort it first.
type partWriter struct {
	z    *sortedZip
	name string
	off  int64
	crc  hash.Hash32
	raw  uint64
	kept *bytes.Buffer // the content types, whole
}

func (p *partWriter) Write(b []byte) (int, error) {
	if p.kept != nil {
		return p.kept.Write(b)
	}
	p.crc.Write(b)
	p.raw += uint64(len(b))
	return p.z.fw.Write(b)
}

// Create starts the part name, ending the one before.
func (z *sortedZip) Create(name string) (io.Writer, error) {
	if err := z.end(); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(z.parts, func(p spooledPart) bool { return p.name == name }) {
		return nil, fmt.Errorf("zip part %s written twice", name)
	}
	p := &partWriter{z: z, name: name, crc: crc32.NewIEEE()}
	if name == contentTypesPart {
		p.kept = &bytes.Buffer{}
	} else if err := z.startPart(p); err != nil {
		return nil, err
	}
	z.cur = p
	return p, nil
}

// startPart starts compressing p into the spool.
func (z *sortedZip) startPart(p *partWriter) error {
	p.off = z.sink.at
	if z.fw == nil {
		fw, err := flate.NewWriter(z.sink, xlsxDeflateLevel)
		if err != nil {
			return err
		}
		z.fw = fw
		return nil
	}
	z.fw.Reset(z.sink)
	return nil
}

// end finishes the part being written, if any.
func (z *sortedZip) end() error {
	p := z.cur
	if p == nil {
		return nil
	}
	z.cur = nil
	if p.kept != nil {
		b := sortDefaults(p.kept.Bytes())
		p.crc.Write(b)
		p.raw = uint64(len(b))
		if err := z.startPart(p); err != nil {
			return err
		}
		if _, err := z.fw.Write(b); err != nil {
			return err
		}
	}
	if err := z.fw.Close(); err != nil {
		return err
	}
	z.parts = append(z.parts, spooledPart{name: p.name, off: p.off, size: z.sink.at - p.off, crc: p.crc.Sum32(), raw: p.raw})
	return nil
}

// AddFS is part of excelize.ZipWriter; excelize does not call it.
func (z *sortedZip) AddFS(fs.FS) error {
	return errors.New("adding a file system to a workbook is not supported")
}

// Close writes the parts to out in name order.
func (z *sortedZip) Close() error {
	if err := z.end(); err != nil {
		return err
	}
	if err := z.sink.w.Flush(); err != nil {
		return fmt.Errorf("%w: writing the parts of the workbook: %w", extsort.ErrScratch, err)
	}
	slices.SortFunc(z.parts, func(a, b spooledPart) int { return strings.Compare(a.name, b.name) })
	zw := zip.NewWriter(z.out)
	for _, p := range z.parts {
		// The versions archive/zip's Create writes (CreateRaw leaves them
		// 0, a version Excel, strict about a zip's headers, may refuse);
		// 4.5 for a part past 4 GiB, as excelize's fix-up would have it.
		version := uint16(20)
		if p.raw > math.MaxUint32 || uint64(p.size) > math.MaxUint32 {
			version = 45
		}
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name:               p.name,
			CreatorVersion:     version,
			ReaderVersion:      version,
			Method:             zip.Deflate,
			CRC32:              p.crc,
			CompressedSize64:   uint64(p.size),
			UncompressedSize64: p.raw,
		})
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, io.NewSectionReader(z.spool, p.off, p.size)); err != nil {
			return fmt.Errorf("%w: reading back a part of the workbook: %w", extsort.ErrScratch, err)
		}
	}
	return zw.Close()
}

// remove closes and removes the spool (where the system did not unlink it
// at once).
func (z *sortedZip) remove() error {
	err := z.spool.Close()
	if rerr := os.Remove(z.spool.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// contentDefault is one Default element of [Content_Types].xml, as excelize
// writes it.
var contentDefault = regexp.MustCompile(`<Default [^<>]*(?:/>|></Default>)`)

// sortDefaults returns the content types b with their Default elements in
// order. It changes nothing unless they stand side by side, as excelize
// writes them.
func sortDefaults(b []byte) []byte {
	at := contentDefault.FindAllIndex(b, -1)
	if len(at) < 2 {
		return b
	}
	start, end := at[0][0], at[len(at)-1][1]
	elems := make([]string, len(at))
	n := 0
	for i, loc := range at {
		elems[i] = string(b[loc[0]:loc[1]])
		n += len(elems[i])
	}
	if n != end-start {
		return b
	}
	slices.Sort(elems)
	out := slices.Clone(b[:start])
	out = append(out, strings.Join(elems, "")...)
	return append(out, b[end:]...)
}
