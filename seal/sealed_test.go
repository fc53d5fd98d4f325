package seal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

func sealedSealer(keys ...*Key) *Sealer { return New(keys[0], keys[1:]...).WithFormat(Sealed) }

func TestSealedRoundTrip(t *testing.T) {
	old, cur := GenerateKey(), GenerateKey()
	names := []string{"acct:alice", "", "sess:\u00e9\x00\xff", strings.Repeat("k", 5000)}
	for _, compress := range []bool{false, true} {
		writerOld := sealedSealer(old).WithCompression(compress)
		ring := sealedSealer(cur, old)
		for _, n := range []int{0, 1, 1023, 1024, 4096, 100 << 10} {
			for _, name := range names {
				value := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
				for writer, s := range []*Sealer{ring.WithCompression(compress), writerOld} {
					tok := s.SealFor([]byte("prefix"), name, value)
					if !bytes.HasPrefix(tok, []byte("prefix")) {
						t.Fatal("SealFor did not append to dst")
					}
					tok = tok[len("prefix"):]
					if f, ok := TokenFormat(tok); !ok || f != Sealed {
						t.Fatalf("TokenFormat = %v, %v", f, ok)
					}
					wantCompressed := compress && n >= minCompressLen
					if got := tok[5] == flagCompressed; got != wantCompressed {
						t.Errorf("%d bytes, compress %v: compressed %v", n, compress, got)
					}
					if len(tok) > s.SealedLenFor(n) {
						t.Errorf("token of %d bytes, SealedLenFor says %d", len(tok), s.SealedLenFor(n))
					}
					got, idx, err := ring.OpenKeyFor(nil, name, tok, time.Minute)
					if err != nil || !bytes.Equal(got, value) || idx != writer || got == nil {
						t.Fatalf("%d bytes, name %.10q, compress %v: OpenKeyFor = %d bytes, key %d, %v", n, name, compress, len(got), idx, err)
					}
				}
			}
		}
	}
}

// TestSealedMovedToken is the attack of issue 14: with write access to
// Redis but no key, copy alice's value onto mallory's key.
func TestSealedMovedToken(t *testing.T) {
	k := GenerateKey()
	value := []byte(`{"user":"alice","admin":true}`)
	for _, s := range []*Sealer{sealedSealer(k), sealedSealer(k).WithCompression(true)} {
		tok := s.SealFor(nil, "acct:alice", bytes.Repeat(value, 50))
		got, err := s.OpenFor(nil, "acct:mallory", tok, 0)
		if !errors.Is(err, ErrAuthentication) || got != nil {
			t.Errorf("moved sealed token: %q, %v", got, err)
		}
		// A key prefix or database-less copy to a name sharing a prefix is no different.
		if _, err := s.OpenFor(nil, "acct:alic", tok, 0); !errors.Is(err, ErrAuthentication) {
			t.Errorf("token opened under a prefix of its name: %v", err)
		}
	}
	// Fernet, the default, does not bind the name: the same copy opens.
	// This is documented, and why the sealed format exists.
	f := New(k)
	tok := f.SealFor(nil, "acct:alice", value)
	if got, err := f.OpenFor(nil, "acct:mallory", tok, 0); err != nil || !bytes.Equal(got, value) {
		t.Errorf("Fernet token moved: %q, %v (Fernet is expected to accept it)", got, err)
	}
}

func TestMixedReading(t *testing.T) {
	old, cur := GenerateKey(), GenerateKey()
	ring := New(cur, old)
	fernetOld := New(old).SealFor(nil, "a", []byte("fernet under old"))
	sealedCur := ring.WithFormat(Sealed).SealFor(nil, "a", []byte("sealed under cur"))
	for _, c := range []struct {
		tok    []byte
		format Format
		want   string
		index  int
	}{{fernetOld, Fernet, "fernet under old", 1}, {sealedCur, Sealed, "sealed under cur", 0}} {
		for _, reader := range []*Sealer{ring, ring.WithFormat(Sealed)} {
			got, idx, err := reader.OpenKeyFor(nil, "a", c.tok, time.Minute)
			if err != nil || string(got) != c.want || idx != c.index {
				t.Errorf("%v token: %q, %d, %v", c.format, got, idx, err)
			}
		}
		if f, ok := TokenFormat(c.tok); !ok || f != c.format {
			t.Errorf("TokenFormat = %v, %v; want %v", f, ok, c.format)
		}
	}
	for _, v := range [][]byte{nil, []byte("plain"), {0x80}, {0x92, 1, 2}} {
		if f, ok := TokenFormat(v); ok {
			t.Errorf("TokenFormat(%q) = %v", v, f)
		}
		if _, err := ring.OpenFor(nil, "a", v, 0); !errors.Is(err, ErrMalformed) {
			t.Errorf("OpenFor(%q) = %v, want ErrMalformed", v, err)
		}
	}
	// The Fernet-only methods still refuse sealed tokens as malformed.
	if _, err := ring.Open(nil, sealedCur, 0); !errors.Is(err, ErrMalformed) {
		t.Errorf("Open(sealed) = %v", err)
	}
}

func TestRotateForConvertsFormats(t *testing.T) {
	old, cur := GenerateKey(), GenerateKey()
	at := time.Unix(1_700_000_000, 0)
	ring := New(cur, old).WithClock(fixedClock(at.Add(time.Hour)))
	fernetOld := New(old).WithClock(fixedClock(at)).Seal(nil, []byte("v"))
	fernetCur := New(cur).WithClock(fixedClock(at)).Seal(nil, []byte("v"))
	sealedOld := sealedSealer(old).WithClock(fixedClock(at)).SealFor(nil, "k", []byte("v"))
	sealedCur := sealedSealer(cur).WithClock(fixedClock(at)).SealFor(nil, "k", []byte("v"))
	for _, c := range []struct {
		desc       string
		writes     Format
		tok        []byte
		needs      bool
		wantFormat Format
	}{
		{"Fernet, old key, to sealed", Sealed, fernetOld, true, Sealed},
		{"Fernet, primary, to sealed", Sealed, fernetCur, true, Sealed},
		{"sealed, old key, to sealed", Sealed, sealedOld, true, Sealed},
		{"sealed, primary, to sealed", Sealed, sealedCur, false, Sealed},
		{"Fernet, primary, stays Fernet", Fernet, fernetCur, false, Fernet},
		{"sealed, primary, back to Fernet", Fernet, sealedCur, true, Fernet},
	} {
		s := ring.WithFormat(c.writes)
		needs, err := s.NeedsRotation("k", c.tok)
		if err != nil || needs != c.needs {
			t.Errorf("%s: NeedsRotation = %v, %v", c.desc, needs, err)
		}
		next, err := s.RotateFor(nil, "k", c.tok)
		if err != nil {
			t.Fatalf("%s: %v", c.desc, err)
		}
		if f, _ := TokenFormat(next); f != c.wantFormat {
			t.Errorf("%s: rotated to %v", c.desc, f)
		}
		if needs, err := s.NeedsRotation("k", next); needs || err != nil {
			t.Errorf("%s: the rotated token still needs rotation (%v)", c.desc, err)
		}
		if ts, err := s.TimestampFor("k", next); err != nil || !ts.Equal(at) {
			t.Errorf("%s: rotated timestamp %v, %v; want the original %v", c.desc, ts, err, at)
		}
		if got, idx, err := New(cur).OpenKeyFor(nil, "k", next, 0); err != nil || string(got) != "v" || idx != 0 {
			t.Errorf("%s: the primary alone opens the rotated token: %q, %v", c.desc, got, err)
		}
	}
	if _, err := ring.WithFormat(Sealed).RotateFor(nil, "other", sealedOld); !errors.Is(err, ErrAuthentication) {
		t.Errorf("RotateFor under another name: %v", err)
	}
	if _, err := ring.NeedsRotation("k", []byte("garbage")); !errors.Is(err, ErrMalformed) {
		t.Errorf("NeedsRotation(garbage) = %v", err)
	}
}

// TestSealedTTL: the ttl rules are Fernet's, whole seconds included.
func TestSealedTTL(t *testing.T) {
	at := int64(1_700_000_000)
	k := GenerateKey()
	tok := sealedSealer(k).WithClock(fixedClock(time.Unix(at, 0))).SealFor(nil, "k", []byte("v"))
	for d := int64(-62); d <= 32; d++ {
		for _, frac := range []time.Duration{0, 999 * time.Millisecond} {
			s := sealedSealer(k).WithClock(fixedClock(time.Unix(at+d, 0).Add(frac)))
			_, err := s.OpenFor(nil, "k", tok, 30*time.Second)
			var want error
			switch {
			case d > 30:
				want = ErrExpired
			case d < -60:
				want = ErrFutureTimestamp
			}
			if !errors.Is(err, want) && !(want == nil && err == nil) {
				t.Errorf("now = token time %+ds (+%v): %v, want %v", d, frac, err, want)
			}
			// With no ttl the time is not looked at.
			if _, err := s.OpenFor(nil, "k", tok, 0); err != nil {
				t.Errorf("ttl 0: %v", err)
			}
		}
	}
}

// TestSealedKeyIDs: the key ID picks the key, keys that share an ID are
// all tried, and an unknown ID is an authentication failure naming it.
func TestSealedKeyIDs(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	if a.SealedID() == b.SealedID() {
		t.Skip("two random keys share a 32-bit ID")
	}
	tok := sealedSealer(b).SealFor(nil, "k", []byte("v"))
	_, err := sealedSealer(a).OpenFor(nil, "k", tok, 0)
	id := b.SealedID()
	if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), fmt.Sprintf("%x", id[:])) ||
		!strings.Contains(err.Error(), "sealed under a key this ring does not have") {
		t.Errorf("unknown key: %v", err)
	}
	// A colliding ID (a 2^-32 chance per pair), made by hand: both keys are tried.
	aWithBsID := newKey(a.d.raw)
	aWithBsID.d.sealed.id = b.SealedID()
	got, idx, err := sealedSealer(aWithBsID, b).OpenKeyFor(nil, "k", tok, 0)
	if err != nil || string(got) != "v" || idx != 1 {
		t.Errorf("colliding IDs: %q, %d, %v", got, idx, err)
	}
	if _, err := sealedSealer(aWithBsID).OpenFor(nil, "k", tok, 0); !errors.Is(err, ErrAuthentication) || strings.Contains(err.Error(), "does not have") {
		t.Errorf("a key with the right ID but the wrong secret: %v", err)
	}
	// IDs are derived: the same key text gives the same ID anywhere.
	if mustKey(t, a.Encode()).SealedID() != a.SealedID() {
		t.Error("a parsed key has another ID")
	}
}

func TestInflateLimits(t *testing.T) {
	stream := func(data []byte) []byte { return rawDeflate(t, data) }
	hello := stream([]byte("hello"))
	cases := []struct {
		desc string
		p    []byte
		want error
	}{
		{"exact", declared(5, hello), nil},
		{"declares more", declared(6, hello), errInflate},
		{"declares less", declared(4, hello), errInflate},
		{"trailing byte", append(declared(5, hello), 0), errInflate},
		{"no stream", declared(0, nil), errInflate},
		{"3 bytes", []byte{0, 0, 0}, errInflate},
		{"512 MiB + 1", declared(maxDeclaredLen+1, hello), errDeclaredLen},
		{"4 GiB - 1", declared(1<<32-1, hello), errDeclaredLen},
	}
	for _, c := range cases {
		got, err := inflateValue([]byte("d"), c.p)
		if err != c.want || (err == nil) != (string(got) == "dhello") {
			t.Errorf("%s: %q, %v; want %v", c.desc, got, err, c.want)
		}
	}
	// A bomb: 64 MiB of zeros in about 64 KiB, declared as 1 KiB. The
	// reader inflates at most 1 KiB + 1 and allocates accordingly.
	bomb := declared(1<<10, stream(make([]byte, 64<<20)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := inflateValue(nil, bomb)
	runtime.ReadMemStats(&after)
	if err != errInflate {
		t.Errorf("bomb: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("the bomb made the reader allocate %d bytes", grew)
	}
}

// TestSealedAllocations: the 1 KiB hot path allocates only the AES-256-GCM
// of the per-value key (its block and its GCM), with a reused dst.
func TestSealedAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	s := sealedSealer(GenerateKey())
	pt := make([]byte, 1<<10)
	dst := make([]byte, 0, s.SealedLenFor(len(pt)))
	tok := s.SealFor(nil, benchName, pt)
	out := make([]byte, 0, len(tok))
	if n := testing.AllocsPerRun(200, func() { dst = s.SealFor(dst[:0], benchName, pt) }); n > 2 {
		t.Errorf("SealFor: %v allocations", n)
	}
	if n := testing.AllocsPerRun(200, func() { out, _ = s.OpenFor(out[:0], benchName, tok, time.Minute) }); n > 2 {
		t.Errorf("OpenFor: %v allocations", n)
	}
}

// TestSealedOverlap: inputs living in dst's spare capacity are read before
// they are overwritten, as crypto/cipher's AEADs require of callers but
// Seal and Open promise not to.
func TestSealedOverlap(t *testing.T) {
	s := sealedSealer(GenerateKey())
	buf := make([]byte, 0, 4096)
	value := append(buf[:100], bytes.Repeat([]byte("v"), 200)...)[100:]
	tok := s.SealFor(buf[:0], "k", value)
	got, err := s.OpenFor(nil, "k", tok, 0)
	if err != nil || !bytes.Equal(got, bytes.Repeat([]byte("v"), 200)) {
		t.Fatalf("plaintext in dst's spare capacity: %v", err)
	}
	tok2 := append(buf[:0], tok...)
	if got, err := s.OpenFor(tok2[:0], "k", tok2, 0); err != nil || !bytes.Equal(got, bytes.Repeat([]byte("v"), 200)) {
		t.Fatalf("token in dst's spare capacity: %v", err)
	}
}

func TestSealedErrorsKeepSecrets(t *testing.T) {
	k := GenerateKey()
	s := sealedSealer(k).WithCompression(true)
	value := bytes.Repeat([]byte("secret-value "), 100)
	tok := s.SealFor(nil, "acct:alice", value)
	tampered := bytes.Clone(tok)
	tampered[len(tampered)-1] ^= 1
	other := sealedSealer(GenerateKey())
	for _, err := range []error{
		func() error { _, err := s.OpenFor(nil, "acct:bob", tok, 0); return err }(),
		func() error { _, err := s.OpenFor(nil, "acct:alice", tampered, 0); return err }(),
		func() error { _, err := other.OpenFor(nil, "acct:alice", tok, 0); return err }(),
	} {
		msg := fmt.Sprintf("%v %+v %#v", err, err, err)
		for _, secret := range []string{k.Encode(), "secret-value", string(k.NameKey())} {
			if strings.Contains(msg, secret) {
				t.Errorf("error %q reveals a secret", msg)
			}
		}
	}
}

func TestFormatNames(t *testing.T) {
	for _, f := range []Format{Fernet, Sealed} {
		if got, err := ParseFormat(f.String()); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, got, err)
		}
	}
	for _, s := range []string{"", "Sealed", "xaes", "fernet "} {
		if _, err := ParseFormat(s); err == nil {
			t.Errorf("ParseFormat(%q) accepted", s)
		}
	}
	var zero Sealer
	if zero.SealingFormat() != Fernet || New(GenerateKey()).SealingFormat() != Fernet {
		t.Error("Fernet is not the default")
	}
	// Fernet ignores compression: its tokens are what Seal makes.
	f := New(GenerateKey()).WithCompression(true)
	if tok := f.SealFor(nil, "k", make([]byte, 4096)); len(tok) != SealedLen(4096) || tok[0] != fernetFirst {
		t.Errorf("Fernet with compression on: %d bytes", len(tok))
	}
	defer func() {
		if recover() == nil {
			t.Error("WithFormat accepted an unknown format")
		}
	}()
	New(GenerateKey()).WithFormat(Format(7))
}

func TestHashedName(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	n1 := HashedName(a.NameKey(), "app:", "magic_link:", "magic_link:tok1")
	if !strings.HasPrefix(n1, "app:magic_link:") || len(n1) != len("app:magic_link:")+43 || strings.Contains(n1, "tok1") {
		t.Errorf("HashedName = %q", n1)
	}
	for _, other := range []string{
		HashedName(a.NameKey(), "app:", "magic_link:", "magic_link:tok2"),
		HashedName(b.NameKey(), "app:", "magic_link:", "magic_link:tok1"),
		HashedName(a.NameKey(), "app2:", "magic_link:", "magic_link:tok1")[1:],
	} {
		if strings.HasSuffix(other, n1[len("app:magic_link:"):]) {
			t.Errorf("two different names hash alike: %q", other)
		}
	}
	if bytes.Equal(a.NameKey(), a.d.sealed.aead.k1[:]) || len(a.NameKey()) != 32 {
		t.Error("NameKey")
	}
	nk := a.NameKey()
	nk[0] ^= 1
	if bytes.Equal(nk, a.NameKey()) {
		t.Error("NameKey returns the key's own memory")
	}
	for _, bad := range []func(){
		func() { HashedName(nil, "", "p:", "p:x") },
		func() { HashedName(a.NameKey(), "", "p:", "q:x") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("HashedName accepted a bad argument")
				}
			}()
			bad()
		}()
	}
}

// TestSealedHeaderLayout pins the offsets of docs/FORMAT.md's table.
func TestSealedHeaderLayout(t *testing.T) {
	k := GenerateKey()
	at := time.Unix(1_700_000_123, 0)
	tok := sealedSealer(k).WithClock(fixedClock(at)).SealFor(nil, "k", []byte("hello"))
	id := k.SealedID()
	if len(tok) != 54+5 || tok[0] != 0x91 || !bytes.Equal(tok[1:5], id[:]) || tok[5] != 0 ||
		binary.BigEndian.Uint64(tok[6:14]) != uint64(at.Unix()) {
		t.Errorf("header % x", tok[:14])
	}
	if again := sealedSealer(k).WithClock(fixedClock(at)).SealFor(nil, "k", []byte("hello")); bytes.Equal(tok[14:38], again[14:38]) {
		t.Error("two tokens share a nonce")
	}
}
