package app

import "net"

// listenLoopback opens a plain-HTTP port for flag (the plain-HTTP proxy,
// the admin listener): "" means any free loopback port, "off" none.
func listenLoopback(flag, addr string) (net.Listener, error) {
	switch addr {
	case "off":
		return nil, nil
	case "":
		addr = "127.0.0.1:0"
	}
	if err := requireLoopback(flag, addr); err != nil {
		return nil, err
	}
	return net.Listen("tcp", addr)
}

func plainURL(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return "http://" + ln.Addr().String()
}
