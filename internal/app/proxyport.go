package app

import "net"

// listenPlain opens the plain-HTTP proxy port ("" means any free loopback
// port; "off" none).
func listenPlain(addr string) (net.Listener, error) {
	switch addr {
	case "off":
		return nil, nil
	case "":
		addr = "127.0.0.1:0"
	}
	if err := requireLoopback(addr); err != nil {
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
