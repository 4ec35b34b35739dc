package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestJSONLogs: with --log-format json every log line is one JSON object
// (for log collectors), the access log among them; no secret appears.
func TestJSONLogs(t *testing.T) {
	in := start(t, "", "--log-format", "json")
	if st, m := in.rawToken(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], armScope); st != 200 {
		t.Fatal(m)
	}
	if st, _ := in.rawToken(in.env["AKSID_ADMIN_CLIENT_ID"], "wrong-secret", armScope); st != 401 {
		t.Fatalf("wrong secret: %d", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	// The access log is written once the answer is out: wait for both.
	for strings.Count(in.logText(), `"msg":"request"`) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	logs := in.logText()
	if strings.Contains(logs, in.env["AKSID_ADMIN_CLIENT_SECRET"]) || strings.Contains(logs, "wrong-secret") {
		t.Fatal("a secret reached the log")
	}
	n := 0
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil || rec["level"] == nil || rec["time"] == nil {
			t.Fatalf("not a JSON log record: %q (%v)", line, err)
		}
		if rec["msg"] == "request" && strings.Contains(line, "oauth2/v2.0/token") {
			n++
		}
	}
	if n < 2 {
		t.Fatalf("%d access-log records of the token requests:\n%s", n, logs)
	}
}
