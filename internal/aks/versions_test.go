package aks

import (
	"testing"

	"github.com/aksid/aksid/internal/azerr"
)

// TestUpgradeVersion: a cluster made at an older version stays there
// while updates send that version back (in any spelling), moves to the
// one version offered when asked, and is refused any other.
func TestUpgradeVersion(t *testing.T) {
	for _, tc := range []struct {
		want any
		cur  string
		got  string
		code string
	}{
		{nil, "1.33.3", "1.33.3", ""},
		{"", "1.33.3", "1.33.3", ""},
		{"1.33.3", "1.33.3", "1.33.3", ""},
		{"1.33", "1.33.3", "1.33.3", ""},
		{KubernetesVersion, "1.33.3", KubernetesVersion, ""},
		{minor, "1.33.3", KubernetesVersion, ""},
		{"1.33.9", "1.33.3", "", "K8sVersionNotSupported"},
		{"1.99.0", KubernetesVersion, "", "K8sVersionNotSupported"},
	} {
		got, err := upgradeVersion("c1", tc.want, tc.cur)
		if e, _ := azerr.As(err); got != tc.got || (tc.code == "") != (err == nil) || (err != nil && e.Code != tc.code) {
			t.Errorf("upgrade %s to %v: %q %v, want %q %s", tc.cur, tc.want, got, err, tc.got, tc.code)
		}
	}
}
