package e2e

import (
	"bytes"
	"sync"
)

// syncWriter lets the test read a child's stderr while it writes.
type syncWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (in *instance) logText() string {
	w := in.cmd.Stderr.(*syncWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
