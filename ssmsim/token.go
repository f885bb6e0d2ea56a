package ssmsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
)

// tokens seals and opens NextTokens. A token is base64 (standard alphabet,
// padded, like AWS's own: clients must pass it back verbatim) of a version
// byte, the operation, the offset to resume at, and an HMAC-SHA256 (truncated
// to 16 bytes) over operation, subject and offset. The subject (the instance
// ID, or the filters of DescribeInstanceInformation) is not in the token, so
// a token only opens with the request it was issued for.
type tokens struct {
	macs sync.Pool
}

const (
	tokenVersion = 1
	macLen       = 16
)

// init keys t with secret; it must be called before any other method.
func (t *tokens) init(secret []byte) {
	t.macs.New = func() any { return hmac.New(sha256.New, secret) }
}

func (t *tokens) mac(dst []byte, op int, subject string, offset uint64) []byte {
	h := t.macs.Get().(hash.Hash)
	defer t.macs.Put(h)
	h.Reset()
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = byte(op)
	n := binary.PutUvarint(hdr[1:], offset)
	h.Write(hdr[:1+n])
	h.Write([]byte(subject))
	var sum [sha256.Size]byte
	return append(dst, h.Sum(sum[:0])[:macLen]...)
}

// seal returns the token that resumes op on subject at offset.
func (t *tokens) seal(op int, subject string, offset int) string {
	var raw [2 + binary.MaxVarintLen64 + macLen]byte
	raw[0], raw[1] = tokenVersion, byte(op)
	n := 2 + binary.PutUvarint(raw[2:], uint64(offset))
	b := t.mac(raw[:n], op, subject, uint64(offset))
	return base64.StdEncoding.EncodeToString(b)
}

// open returns the offset that tok resumes op on subject at, and false if tok
// was not sealed by this secret for this op and subject.
func (t *tokens) open(op int, subject, tok string) (int, bool) {
	var raw [2 + binary.MaxVarintLen64 + macLen + 3]byte
	if base64.StdEncoding.DecodedLen(len(tok)) > len(raw) {
		return 0, false
	}
	n, err := base64.StdEncoding.Decode(raw[:], []byte(tok))
	if err != nil || n < 2+1+macLen || raw[0] != tokenVersion || raw[1] != byte(op) {
		return 0, false
	}
	off, m := binary.Uvarint(raw[2 : n-macLen])
	if m <= 0 || 2+m != n-macLen || off > 1<<31 {
		return 0, false
	}
	var want [macLen]byte
	if !hmac.Equal(t.mac(want[:0], op, subject, off), raw[n-macLen:n]) {
		return 0, false
	}
	return int(off), true
}
