package seal

import (
	"sync"
	"testing"
)

// TestNonceBatches: a writer keeps one random nonce prefix for at most
// batchValues values, from any number of goroutines, and draws the rest of
// every nonce fresh; the tokens open in another process's Sealer of the
// same key (which has no batch of that prefix) as in its own.
func TestNonceBatches(t *testing.T) {
	k := GenerateKey()
	s := New(k).WithFormat(Sealed)
	const writers, each = 8, 1500
	var mu sync.Mutex
	prefixes := map[[12]byte]int{}
	nonces := map[[24]byte]bool{}
	tokens := make([][]byte, 0, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				tok := s.SealFor(nil, "k", []byte{byte(w), byte(i)})
				mu.Lock()
				prefixes[[12]byte(tok[sealedHeaderLen:])]++
				nonces[[24]byte(tok[sealedHeaderLen:])] = true
				tokens = append(tokens, tok)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(nonces) != writers*each {
		t.Fatalf("%d distinct nonces for %d values", len(nonces), writers*each)
	}
	if len(prefixes) < writers*each/batchValues {
		t.Fatalf("%d prefixes for %d values: batches are not bounded", len(prefixes), writers*each)
	}
	for p, n := range prefixes {
		if n > batchValues {
			t.Fatalf("prefix %x sealed %d values, more than %d", p, n, batchValues)
		}
	}
	other := New(k) // another process: none of these prefixes at hand
	for _, tok := range tokens {
		if _, err := other.OpenFor(nil, "k", tok, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenFor(nil, "k", tok, 0); err != nil {
			t.Fatal(err)
		}
	}
}
