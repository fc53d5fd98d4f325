package seal

import "encoding/binary"

// The standard library's base64 works a character at a time and was half
// the cost of a 1 KiB round trip. These table-driven loops handle only the
// bulk of a token, whole quanta with no padding; the ends, where padding and
// canonical-form checks live, still go through encoding/base64. The inputs
// are ciphertext, IV, timestamp and MAC, all public, so table lookups leak
// nothing.

const urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// encPairs maps 12 bits to their two characters, first in the low byte.
var encPairs = func() (t [1 << 12]uint16) {
	for i := range t {
		t[i] = uint16(urlAlphabet[i>>6]) | uint16(urlAlphabet[i&63])<<8
	}
	return
}()

// decTab[p][c] is character c's 6 bits shifted into place for position p of
// a quantum, or a value with bits above 23 set if c is not in the alphabet,
// so that OR-ing a quantum's four entries both decodes and validates it.
var decTab = func() (t [4][256]uint32) {
	for p := range t {
		for c := range t[p] {
			t[p][c] = 0xff << 24
		}
		for v, c := range []byte(urlAlphabet) {
			t[p][c] = uint32(v) << (18 - 6*p)
		}
	}
	return
}()

// encodeBulk encodes src, whose length must be a multiple of 3, into dst and
// returns the number of characters written.
func encodeBulk(dst, src []byte) int {
	n := 0
	for len(src) >= 8 && len(dst) >= 8 {
		// Load 8 bytes, use the top 6: four 12-bit lookups give 8 chars.
		x := binary.BigEndian.Uint64(src)
		binary.LittleEndian.PutUint64(dst, uint64(encPairs[x>>52])|
			uint64(encPairs[x>>40&0xfff])<<16|
			uint64(encPairs[x>>28&0xfff])<<32|
			uint64(encPairs[x>>16&0xfff])<<48)
		src, dst, n = src[6:], dst[8:], n+8
	}
	for len(src) >= 3 && len(dst) >= 4 {
		v := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		binary.LittleEndian.PutUint16(dst, encPairs[v>>12])
		binary.LittleEndian.PutUint16(dst[2:], encPairs[v&0xfff])
		src, dst, n = src[3:], dst[4:], n+4
	}
	if len(src) != 0 {
		panic("seal: internal error: encodeBulk input not whole quanta")
	}
	return n
}

// decodeBulk decodes src, whose length must be a multiple of 4 and which
// must contain no padding, into dst, which must hold len(src)/4*3 bytes. It
// reports whether every character was in the alphabet; on false dst holds
// garbage.
func decodeBulk(dst, src []byte) bool {
	if len(src)%4 != 0 || len(dst) < len(src)/4*3 {
		return false
	}
	var bad uint32
	for len(src) >= 8 && len(dst) >= 8 {
		a := decTab[0][src[0]] | decTab[1][src[1]] | decTab[2][src[2]] | decTab[3][src[3]]
		b := decTab[0][src[4]] | decTab[1][src[5]] | decTab[2][src[6]] | decTab[3][src[7]]
		bad |= a | b
		// 8 bytes are stored, 6 are valid; the next step overwrites the rest.
		binary.BigEndian.PutUint64(dst, uint64(a)<<40|uint64(b)<<16)
		src, dst = src[6+2:], dst[6:]
	}
	for len(src) >= 4 {
		a := decTab[0][src[0]] | decTab[1][src[1]] | decTab[2][src[2]] | decTab[3][src[3]]
		bad |= a
		dst[0], dst[1], dst[2] = byte(a>>16), byte(a>>8), byte(a)
		src, dst = src[4:], dst[3:]
	}
	return bad>>24 == 0
}
