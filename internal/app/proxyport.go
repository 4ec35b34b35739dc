package app

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

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

// addrInUse says who holds addr when listening failed because it is taken
// (a second `aksid serve` on the default port is the usual case) and what
// to do; other errors pass unchanged.
func addrInUse(err error, addr string, dd DataDir) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	if info, ok := dd.RunningServer(); ok && info.Addr == addr {
		return fmt.Errorf("%s is in use: aksid (pid %d) already serves %s there; use it (eval \"$(aksid env)\"), stop it, or serve another with --addr 127.0.0.1:0", addr, info.PID, dd)
	}
	return fmt.Errorf("%s is in use by another process; stop it, or choose another address with --addr (127.0.0.1:0 picks a free port)", addr)
}
