package seal

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

const (
	// minCompressLen is the smallest value a writer compresses: below it
	// DEFLATE rarely saves enough to pay for its set-up.
	minCompressLen = 1024
	// maxDeclaredLen is the largest length a compressed value may declare,
	// Redis's largest value (512 MiB).
	maxDeclaredLen = 512 << 20
	lengthLen      = 4
)

// errNoSaving stops compression as soon as the output cannot be shorter
// than the value.
var errNoSaving = errors.New("compression saves nothing")

// boundedBuffer collects output up to its capacity and fails beyond it.
type boundedBuffer struct{ b []byte }

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if len(w.b)+len(p) > cap(w.b) {
		return 0, errNoSaving
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

// maxExpansion bounds how much a DEFLATE stream can expand.
const maxExpansion = 1032

// compressors pools DEFLATE writers: a new one allocates about 1.2 MB,
// which made a compressed 1 KiB seal take 400 µs. Reset makes a pooled
// writer equivalent to a new one, so no value's compression depends on
// the values before it (its length would otherwise leak across values).
// scrub overwrites the window a writer holds before it goes back, but not
// all of its state: its token buffer and hash table can keep fragments of
// the last value in process memory (never in a token) until the writer is
// reused. Compression is opt-in, for values nobody outside influences.
var compressors = sync.Pool{New: func() any {
	w, err := flate.NewWriter(io.Discard, flate.BestSpeed)
	if err != nil {
		panic("seal: " + err.Error()) // unreachable: the level is valid
	}
	return w
}}

// zeros is what scrub compresses: flate keeps at most one 64 KiB block of
// input (its window, and BestSpeed's copy of the previous block).
var zeros = make([]byte, 1<<16)

func scrub(w *flate.Writer, n int) {
	w.Reset(io.Discard)
	w.Write(zeros[:min(n, len(zeros))])
	w.Close()
}

// compressValue returns length || raw DEFLATE(value), or nil when that is
// not shorter than value. Compressing is the writer's choice, so the level
// is too: flate.BestSpeed, because a cache writes on the request path.
func compressValue(value []byte) []byte {
	if len(value) > maxDeclaredLen {
		return nil
	}
	out := &boundedBuffer{b: make([]byte, lengthLen, len(value)-1)}
	binary.BigEndian.PutUint32(out.b, uint32(len(value)))
	w := compressors.Get().(*flate.Writer)
	w.Reset(out)
	_, err := w.Write(value)
	if err == nil {
		err = w.Close()
	}
	scrub(w, len(value))
	compressors.Put(w)
	if err != nil {
		clear(out.b[:cap(out.b)])
		return nil
	}
	return out.b
}

// inflateValue appends to dst the value of p = length || raw DEFLATE, as
// docs/FORMAT.md requires: a declared length over maxDeclaredLen is refused
// before anything is allocated, at most length + 1 bytes are inflated, and
// the stream must give exactly length bytes, end there, and be followed by
// nothing. So an authentic but hostile token cannot make a reader allocate
// more than it declares.
func inflateValue(dst, p []byte) ([]byte, error) {
	if len(p) < lengthLen {
		return nil, errInflate
	}
	n := binary.BigEndian.Uint32(p)
	if n > maxDeclaredLen {
		return nil, errDeclaredLen
	}
	// DEFLATE expands at most about 1032:1 (a 258-byte match in under two
	// bits): a declared length the stream cannot reach is refused before
	// anything is allocated, so a small token cannot cost a large buffer.
	if uint64(n) > maxExpansion*uint64(len(p)-lengthLen)+64 {
		return nil, errInflate
	}
	ret, out := sliceForAppend(dst, int(n))
	// A bytes.Reader is an io.ByteReader, so flate reads no further than
	// the end of the stream and the bytes after it are still counted.
	src := bytes.NewReader(p[lengthLen:])
	r := getDecompressor(src)
	defer putDecompressor(r)
	_, err := io.ReadFull(r, out)
	var extra [1]byte
	if err == nil {
		var k int
		k, err = r.Read(extra[:])
		if k == 0 && err == io.EOF && src.Len() == 0 {
			return ret, nil
		}
	}
	clear(out)
	return nil, errInflate
}

// decompressors pools DEFLATE readers (about 40 KiB each, most of the cost
// of opening a small compressed value). A reader keeps up to 32 KiB of
// what it inflated in its window, so before going back it inflates
// scrubStream, 32 KiB of zeros in one stored block, over it.
var decompressors sync.Pool

var scrubStream = func() []byte {
	const n = 1 << 15
	return append([]byte{0x01, n & 0xff, n >> 8, ^n & 0xff, ^n >> 8 & 0xff}, make([]byte, n)...)
}()

func getDecompressor(src io.Reader) io.ReadCloser {
	if r, ok := decompressors.Get().(io.ReadCloser); ok {
		if err := r.(flate.Resetter).Reset(src, nil); err == nil {
			return r
		}
	}
	return flate.NewReader(src)
}

func putDecompressor(r io.ReadCloser) {
	if err := r.(flate.Resetter).Reset(bytes.NewReader(scrubStream), nil); err != nil {
		return
	}
	if n, err := io.Copy(io.Discard, r); err != nil || n != int64(len(scrubStream)-5) {
		return // not scrubbed: let the collector have it
	}
	decompressors.Put(r)
}
