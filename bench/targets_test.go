package bench

import "testing"

// atLeast and atMost log a figure beside the target the README cites it
// against, and fail the benchmark when it is missed: `make bench` is a
// check, not a printout.
func atLeast(b *testing.B, what string, got, target float64) {
	b.Helper()
	check(b, what, got, ">=", target, got >= target)
}

func atMost(b *testing.B, what string, got, target float64) {
	b.Helper()
	check(b, what, got, "<=", target, got <= target)
}

func check(b *testing.B, what string, got float64, op string, target float64, met bool) {
	b.Helper()
	if met {
		b.Logf("%s %.2f (target %s %.2f): met", what, got, op, target)
		return
	}
	b.Errorf("%s %.2f (target %s %.2f): MISSED", what, got, op, target)
}
