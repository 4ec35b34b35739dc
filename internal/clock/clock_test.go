package clock

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	cases := map[string]time.Duration{
		"366d":   366 * 24 * time.Hour,
		"90m":    90 * time.Minute,
		"1h30m":  90 * time.Minute,
		"1d12h":  36 * time.Hour,
		"-2d":    -48 * time.Hour,
		"+1h":    time.Hour,
		"0s":     0,
		" 10s ":  10 * time.Second,
		"1d1h1m": 25*time.Hour + time.Minute,
	}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "x1d", "1x", "1d-1h", "--1d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestVirtual(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := NewVirtual(Func(func() time.Time { return base }), 0)
	if !v.Now().Equal(base) {
		t.Fatal("zero offset moved the clock")
	}
	v.SetOffset(48 * time.Hour)
	if got := v.Now().Sub(base); got != 48*time.Hour || v.Offset() != 48*time.Hour {
		t.Fatalf("offset not applied: %v", got)
	}
}
