package redisserver

import "testing"

// BenchmarkStart measures one full Start (certs, config, process, ready
// probe) plus Stop: go test -run '^$' -bench Start ./internal/redisserver
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s := Start(b, Config{})
		s.Stop()
	}
}
