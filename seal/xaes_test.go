package seal

import (
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

type xaesVector struct {
	Key            string `json:"key"`
	NonceASCII     string `json:"nonce_ascii"`
	L              string `json:"L"`
	K1             string `json:"K1"`
	DerivedKey     string `json:"derived_key"`
	DerivedNonce   string `json:"derived_nonce"`
	PlaintextASCII string `json:"plaintext_ascii"`
	AADASCII       string `json:"aad_ascii"`
	Ciphertext     string `json:"ciphertext"`
}

type xaesVectors struct {
	Vectors     []xaesVector `json:"vectors"`
	Accumulated struct {
		StreamStart string `json:"rng_stream_starts_with"`
		Digest10k   string `json:"iterations_10000"`
		Digest1M    string `json:"iterations_1000000"`
	} `json:"accumulated"`
}

// loadXAESVectors reads the C2SP vectors from the repository; their absence
// fails the test.
func loadXAESVectors(t *testing.T) xaesVectors {
	t.Helper()
	data, err := os.ReadFile("testdata/xaes-256-gcm/vectors.json")
	if err != nil {
		t.Fatalf("XAES-256-GCM vectors missing: %v; restore seal/testdata/xaes-256-gcm from git", err)
	}
	var v xaesVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 || v.Accumulated.Digest10k == "" || v.Accumulated.StreamStart == "" {
		t.Fatal("XAES-256-GCM vectors file is missing vectors")
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestXAESVectors(t *testing.T) {
	for i, v := range loadXAESVectors(t).Vectors {
		x := newXAES(unhex(t, v.Key))
		nonce, pt, ad := []byte(v.NonceASCII), []byte(v.PlaintextASCII), []byte(v.AADASCII)
		if got := hex.EncodeToString(x.k1[:]); got != v.K1 {
			t.Errorf("vector %d: K1 = %s, want %s", i, got, v.K1)
		}
		var l [16]byte
		x.block.Encrypt(l[:], l[:])
		if got := hex.EncodeToString(l[:]); got != v.L {
			t.Errorf("vector %d: L = %s, want %s", i, got, v.L)
		}
		var kx [xaesKeySize]byte
		x.deriveKey(&kx, nonce)
		if got := hex.EncodeToString(kx[:]); got != v.DerivedKey {
			t.Errorf("vector %d: derived key = %s, want %s", i, got, v.DerivedKey)
		}
		if got := hex.EncodeToString(nonce[12:]); got != v.DerivedNonce {
			t.Errorf("vector %d: derived nonce = %s, want %s", i, got, v.DerivedNonce)
		}
		ct := x.Seal(nil, nonce, pt, ad)
		if got := hex.EncodeToString(ct); got != v.Ciphertext {
			t.Errorf("vector %d: ciphertext = %s, want %s", i, got, v.Ciphertext)
		}
		if got, err := x.Open(nil, nonce, unhex(t, v.Ciphertext), ad); err != nil || !bytes.Equal(got, pt) {
			t.Errorf("vector %d: Open = %q, %v", i, got, err)
		}
		// Every byte of the ciphertext, the tag and the associated data is
		// authenticated, and so is the nonce through the derived key.
		for _, mut := range []struct {
			what          string
			nonce, ct, ad []byte
		}{
			{"ciphertext", nonce, flipped(ct, 0), ad},
			{"tag", nonce, flipped(ct, len(ct)-1), ad},
			{"derivation half of the nonce", flipped(nonce, 0), ct, ad},
			{"GCM half of the nonce", flipped(nonce, 23), ct, ad},
			{"associated data", nonce, ct, append(ad, 0)},
		} {
			if got, err := x.Open(nil, mut.nonce, mut.ct, mut.ad); err == nil || got != nil {
				t.Errorf("vector %d: Open accepted a changed %s", i, mut.what)
			}
		}
	}
}

func flipped(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// TestXAESAccumulated is C2SP's accumulated test: keys, nonces, plaintexts
// and associated data of every length up to 255 drawn from one SHAKE-128
// stream, the ciphertexts absorbed by another. The million-iteration
// variant runs where it takes seconds, not minutes.
func TestXAESAccumulated(t *testing.T) {
	v := loadXAESVectors(t).Accumulated
	iterations, want := 10_000, v.Digest10k
	if !testing.Short() && !raceEnabled && v.Digest1M != "" {
		iterations, want = 1_000_000, v.Digest1M
	}
	s, d := sha3.NewSHAKE128(), sha3.NewSHAKE128()
	start := make([]byte, len(v.StreamStart)/2)
	sha3.NewSHAKE128().Read(start)
	if got := hex.EncodeToString(start); got != v.StreamStart {
		t.Fatalf("SHAKE-128 stream starts with %s, want %s", got, v.StreamStart)
	}
	key, nonce, n := make([]byte, xaesKeySize), make([]byte, xaesNonceSize), []byte{0}
	read := func() []byte {
		s.Read(n)
		b := make([]byte, n[0])
		s.Read(b)
		return b
	}
	var ct, pt []byte
	for range iterations {
		s.Read(key)
		s.Read(nonce)
		plaintext, ad := read(), read()
		x := newXAES(key)
		ct = x.Seal(ct[:0], nonce, plaintext, ad)
		d.Write(ct)
		var err error
		if pt, err = x.Open(pt[:0], nonce, ct, ad); err != nil || !bytes.Equal(pt, plaintext) {
			t.Fatalf("Open of an accumulated ciphertext: %v", err)
		}
	}
	sum := make([]byte, 32)
	d.Read(sum)
	if got := hex.EncodeToString(sum); got != want {
		t.Errorf("%d iterations: digest %s, want %s", iterations, got, want)
	}
}
