package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// proc is a child process aksid runs beside itself: etcd or an API server.
type proc struct {
	cmd   *exec.Cmd
	stdin io.Closer     // its stdin's writing end, held open until started
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, set before done closes
	log   string        // where its output goes
}

// startProc runs bin with args, its output to logPath (kept for the
// last run only: a fresh file at each start). Its stdin stays open until
// p.started: kube-apiserver as aksid builds it takes that as its start's
// end (AKSID_GOMEMLIMIT_AFTER_START in tools/kube-apiserver).
func startProc(bin string, args []string, env []string, logPath string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	// Not CommandContext: the process outlives the request that started it.
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, stdin: stdin, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports an early exit as an error naming the log to read.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("apiserver: %s exited (%v); see %s", p.cmd.Path, p.err, p.log)
	default:
		return nil
	}
}

// started closes the process's stdin, telling it its start is over.
func (p *proc) started() { _ = p.stdin.Close() }

// stop asks the process to end (SIGTERM, as kubelet and systemd do),
// kills it after grace and tells whether it had to; real time, as it
// waits on a real process.
func (p *proc) stop(grace time.Duration) (killed bool) {
	select {
	case <-p.done:
		return false
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return false
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return true
	}
}

// rss is the process's resident memory in bytes, read from /proc
// (0 where there is none).
func (p *proc) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0
	}
	return resident * int64(os.Getpagesize())
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the child binds it; the child then fails to start and
// says so in its log.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitUntil polls ok every 20 ms until it succeeds, the process exits or
// ctx ends: each poll is a loopback request, and a start's readiness is
// what a user waits on.
func waitUntil(ctx context.Context, p *proc, ok func(context.Context) bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if ok(ctx) {
			return nil
		}
		if err := p.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), fmt.Errorf("apiserver: %s not ready; see %s", p.cmd.Path, p.log))
		case <-tick.C:
		}
	}
}
