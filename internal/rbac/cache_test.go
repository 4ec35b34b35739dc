package rbac

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// Two Services on one store stand for two replicas: what one writes, the
// other follows at its next decision with FollowOtherWriters, and at
// Refresh without it, including a principal it had cached.
func TestDecisionsFollowOtherWriters(t *testing.T) {
	ctx := context.Background()
	for _, follow := range []bool{true, false} {
		writer := newFixture(t, Options{})
		other, err := New(ctx, writer.st, writer.clk, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if follow {
			other.FollowOtherWriters()
		}
		rf := &fixture{Service: other, t: t, st: writer.st, clk: writer.clk}
		p := uuid.NewString()
		const action = "Microsoft.Resources/subscriptions/resourceGroups/read"
		if rf.can([]string{p}, action, rg1) { // caches "no grants" for p
			t.Fatal("granted before any assignment")
		}
		a := writer.assign(rg1, reader, p)
		if got := rf.can([]string{p}, action, rg1); got != follow {
			t.Errorf("follow=%v: the other Service allowed=%v at once", follow, got)
		}
		if err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !rf.can([]string{p}, action, rg1) {
			t.Errorf("follow=%v: not allowed after Refresh", follow)
		}
		if _, err := writer.DeleteAssignment(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := rf.can([]string{p}, action, rg1); got == follow {
			t.Errorf("follow=%v: a removed assignment still allowed=%v", follow, got)
		}
		if err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if rf.can([]string{p}, action, rg1) {
			t.Errorf("follow=%v: a removed assignment allows after Refresh", follow)
		}
		// The writer's own decisions never wait.
		writer.assign(rg1, reader, p)
		if !writer.can([]string{p}, action, rg1) {
			t.Error("the writer does not see its own assignment")
		}
	}
}

// The cache stays bounded: past maxCached principals it starts over and
// decisions stay right.
func TestCacheIsBounded(t *testing.T) {
	f := newFixture(t, Options{})
	granted := uuid.NewString()
	f.assign(rg1, reader, granted)
	for i := range maxCached + 10 {
		if i%5000 == 0 && !f.can([]string{granted}, "Microsoft.Resources/subscriptions/resourceGroups/read", rg1) {
			t.Fatal("denied")
		}
		if f.can([]string{uuid.NewString()}, "Microsoft.Resources/subscriptions/resourceGroups/read", rg1) {
			t.Fatal("a principal without assignments was allowed")
		}
	}
	f.mu.RLock()
	n := len(f.cache)
	f.mu.RUnlock()
	if n > maxCached {
		t.Errorf("%d principals cached, bound %d", n, maxCached)
	}
}
