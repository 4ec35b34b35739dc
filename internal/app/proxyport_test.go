package app

import (
	"net"
	"os"
	"strings"
	"testing"
)

// TestAddrInUseSaysWho: a second `aksid serve` on a taken port is told
// whether aksid holds it (naming its pid and data directory) or another
// program does, and what to do, rather than a bare bind error.
func TestAddrInUseSaysWho(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	_, err = net.Listen("tcp", addr)
	if err == nil {
		t.Fatal("a second listener on a held port")
	}
	dd := DataDir(t.TempDir())
	if got := addrInUse(err, addr, dd).Error(); !strings.Contains(got, "in use by another process") || !strings.Contains(got, "--addr") {
		t.Fatalf("a port another program holds: %s", got)
	}
	if err := dd.WriteServerInfo(ServerInfo{URL: "https://" + addr, Addr: addr, PID: os.Getpid()}); err != nil {
		t.Fatal(err)
	}
	if got := addrInUse(err, addr, dd).Error(); !strings.Contains(got, "aksid (pid ") || !strings.Contains(got, string(dd)) || !strings.Contains(got, "aksid env") {
		t.Fatalf("a port aksid holds: %s", got)
	}
	other := &net.OpError{Op: "listen", Err: os.ErrPermission}
	if got := addrInUse(other, addr, dd); got != error(other) {
		t.Fatalf("another listen error changed: %v", got)
	}
}
