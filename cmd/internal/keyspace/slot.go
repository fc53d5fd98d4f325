package keyspace

import "strings"

// Slot is the Redis Cluster hash slot of key: CRC16 (XMODEM) of the key, or
// of its hash tag (the text between the first '{' and the next '}', when
// that is not empty), modulo 16384. Multi-key commands and transactions on
// a cluster must keep to one slot.
func Slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

// BySlot splits keys into groups of one hash slot each, in the order each
// slot first appears.
func BySlot(keys []string) [][]string {
	index := map[uint16]int{}
	var groups [][]string
	for _, k := range keys {
		s := Slot(k)
		i, ok := index[s]
		if !ok {
			i = len(groups)
			index[s] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], k)
	}
	return groups
}
