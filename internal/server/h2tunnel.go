package server

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// connectStream answers a CONNECT that arrived on an HTTP/2 stream, as
// browsers send it to an https proxy: the stream itself is the tunnel (it
// cannot be hijacked), so the handler stays until the tunnel closes. serve
// takes the tunnel's end and must not block.
//
// The stream is joined to the tunnel through net.Pipe rather than handed
// over directly: net/http interrupts reads by setting a deadline in the
// past and then clears it, which a pipe survives and an HTTP/2 stream
// does not (its read deadline resets the stream).
func (p *Proxy) connectStream(w http.ResponseWriter, r *http.Request, serve func(net.Conn)) {
	rc := http.NewResponseController(w)
	// The server's timeouts bound requests, not a tunnel's life.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	tunnelEnd, streamEnd := net.Pipe()
	var copiers sync.WaitGroup
	copiers.Go(func() {
		// Client to tunnel; when the client ends its side, so does the pipe.
		_, _ = io.Copy(streamEnd, r.Body)
		streamEnd.Close()
	})
	done := make(chan struct{})
	copiers.Go(func() {
		// Tunnel to client, each write flushed: TLS records must not wait.
		defer close(done)
		_, _ = io.Copy(flushWriter{w, rc}, streamEnd)
	})
	serve(addressed{Conn: tunnelEnd, local: localAddr(r), remote: remoteAddr(r)})
	select {
	case <-done:
	case <-r.Context().Done():
	}
	// net/http finishes w and r.Body once the handler returns, so neither
	// copier may outlive it: closing the pipe and the body (safe beside a
	// Read on HTTP/2) unblocks both.
	streamEnd.Close()
	tunnelEnd.Close()
	r.Body.Close()
	copiers.Wait()
}

type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if err == nil {
		err = f.rc.Flush()
	}
	return n, err
}

// addressed gives a pipe the stream's addresses, for logs and faces.
type addressed struct {
	net.Conn
	local, remote net.Addr
}

func (a addressed) LocalAddr() net.Addr  { return a.local }
func (a addressed) RemoteAddr() net.Addr { return a.remote }

func localAddr(r *http.Request) net.Addr {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}

func remoteAddr(r *http.Request) net.Addr {
	if a, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err == nil {
		return a
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}
