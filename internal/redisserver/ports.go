package redisserver

import (
	"net"
)

// FreePorts asks the kernel for n distinct free loopback ports. Holding all
// listeners until the end keeps them distinct; the ports may still be taken
// by someone else before redis binds them, which Start handles by retrying.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
