package main

import "time"

// computeDelay makes the computation slow enough that caching it matters.
const computeDelay = 2 * time.Second

// countPrimes returns how many primes are at most n (a sieve), after
// sleeping delay: the stand-in for an expensive query or remote call.
func countPrimes(n int, delay time.Duration) int {
	time.Sleep(delay)
	if n < 2 {
		return 0
	}
	composite := make([]bool, n+1)
	count := 0
	for i := 2; i <= n; i++ {
		if composite[i] {
			continue
		}
		count++
		for j := i * i; j <= n; j += i {
			composite[j] = true
		}
	}
	return count
}
