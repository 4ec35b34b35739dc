// Package clock supplies the time that every domain decision in aksid is made at.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time. Domain code takes one instead of calling time.Now.
type Clock interface {
	Now() time.Time
}

// Wall is the machine's real clock: the frame real clients live in, used for
// the iat/nbf/exp of tokens.
type Wall struct{}

// Now returns the machine's time.
func (Wall) Now() time.Time { return time.Now() }

// Func adapts a function to Clock (handy in tests).
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// Virtual is aksid's own clock: wall time plus an offset that an operator can
// move (`aksid clock advance 366d`) to make credentials expire without waiting.
type Virtual struct {
	base Clock

	mu     sync.RWMutex
	offset time.Duration
}

// NewVirtual returns a clock running offset ahead of base.
func NewVirtual(base Clock, offset time.Duration) *Virtual {
	return &Virtual{base: base, offset: offset}
}

// Now returns base time plus the offset.
func (v *Virtual) Now() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.base.Now().Add(v.offset)
}

// Offset returns how far the clock runs ahead of its base.
func (v *Virtual) Offset() time.Duration {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.offset
}

// SetOffset moves the clock to base time plus offset.
func (v *Virtual) SetOffset(offset time.Duration) {
	v.mu.Lock()
	v.offset = offset
	v.mu.Unlock()
}
