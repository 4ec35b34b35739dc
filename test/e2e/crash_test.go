package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// ackedWrite is what a write storm was told had succeeded, and how to
// check it is there, whole, after a crash.
type ackedWrite struct {
	appObjectID, appID string
	spObjectID         string
	secret             string // "" until addPassword answered
	assignment         string // ARM ID; "" until the PUT answered
}

// TestCrashLosesNoAcknowledgedWrite, on SQLite and on PostgreSQL: a write
// storm — Graph applications, principals and secrets, ARM role
// assignments — is cut by kill -9 of aksid at a random moment, twenty
// times; after each restart every write acknowledged before the kill is
// present and whole (the secret signs in, the assignment reads back), and
// at the end all of them are.
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { crashRounds(t) })
	t.Run("postgres", func(t *testing.T) { crashRounds(t, "--store", postgresURL(t)) })
}

func crashRounds(t *testing.T, args ...string) {
	dataDir := t.TempDir()
	var all, last []*ackedWrite
	const rounds = 20
	for round := range rounds {
		in := start(t, dataDir, args...)
		verifyAcked(t, in, last, round)
		last = storm(t, in, time.Duration(50+rand.IntN(550))*time.Millisecond)
		all = append(all, last...)
	}
	in := start(t, dataDir, args...)
	verifyAcked(t, in, all, rounds)
	n := 0
	for _, w := range all {
		if w.secret != "" && w.assignment != "" {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no write completed before any kill: the storm proves nothing")
	}
	t.Logf("%d rounds, %d writes acknowledged (%d with a secret and a role assignment)", rounds, len(all), n)
}

// storm writes from four workers until kill -9 after d, and returns what
// was acknowledged.
func storm(t *testing.T, in *instance, d time.Duration) []*ackedWrite {
	t.Helper()
	graphTok := in.adminToken(t, "https://graph.microsoft.com/.default")
	armTok := in.adminToken(t, armScope)
	sub := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"]
	var mu sync.Mutex
	var acked []*ackedWrite
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				w := &ackedWrite{}
				var app struct{ ID, AppID string }
				if try(in, graphTok, "POST", "/v1.0/applications", map[string]any{"displayName": "crash-" + uuid.NewString()}, 201, &app) != nil {
					return
				}
				var sp struct{ ID string }
				if try(in, graphTok, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.AppID}, 201, &sp) != nil {
					// The application alone was acknowledged.
					mu.Lock()
					acked = append(acked, &ackedWrite{appObjectID: app.ID, appID: app.AppID})
					mu.Unlock()
					return
				}
				w.appObjectID, w.appID, w.spObjectID = app.ID, app.AppID, sp.ID
				mu.Lock()
				acked = append(acked, w)
				mu.Unlock()
				var pw struct{ SecretText string }
				if try(in, graphTok, "POST", "/v1.0/applications/"+app.ID+"/addPassword", map[string]any{}, 200, &pw) != nil {
					return
				}
				mu.Lock()
				w.secret = pw.SecretText
				mu.Unlock()
				id := sub + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString()
				body := map[string]any{"properties": map[string]any{"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/" + readerRole,
					"principalId": sp.ID, "principalType": "ServicePrincipal"}}
				if try(in, armTok, "PUT", id+"?api-version=2022-04-01", body, 201, nil) != nil {
					return
				}
				mu.Lock()
				w.assignment = id
				mu.Unlock()
			}
		})
	}
	time.Sleep(d)
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = in.cmd.Wait()
	close(stop)
	wg.Wait()
	return acked
}

// try sends one request and decodes the answer when it has the wanted
// status; any other outcome (the process killed mid-request) is an error.
func try(in *instance, token, method, path string, body any, want int, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, in.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (in *instance) adminToken(t *testing.T, scope string) string {
	t.Helper()
	st, m := in.rawToken(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], scope)
	if st != 200 {
		t.Fatalf("admin token for %s: %d %v", scope, st, m)
	}
	return m["access_token"].(string)
}

// verifyAcked checks every acknowledged write against the restarted
// server: objects read back, the secret signs in, the assignment is there.
func verifyAcked(t *testing.T, in *instance, acked []*ackedWrite, round int) {
	t.Helper()
	if len(acked) == 0 {
		return
	}
	graphTok := in.adminToken(t, "https://graph.microsoft.com/.default")
	armTok := in.adminToken(t, armScope)
	for _, w := range acked {
		if err := try(in, graphTok, "GET", "/v1.0/applications/"+w.appObjectID, nil, 200, nil); err != nil {
			t.Fatalf("after kill %d: acknowledged application lost: %v", round, err)
		}
		if w.spObjectID != "" {
			if err := try(in, graphTok, "GET", "/v1.0/servicePrincipals/"+w.spObjectID, nil, 200, nil); err != nil {
				t.Fatalf("after kill %d: acknowledged service principal lost: %v", round, err)
			}
		}
		if w.secret != "" {
			if st, m := in.rawToken(w.appID, w.secret, armScope); st != 200 {
				t.Fatalf("after kill %d: acknowledged secret of %s refused: %d %v", round, w.appID, st, m)
			}
		}
		if w.assignment != "" {
			var ra struct {
				Properties struct{ PrincipalID string } `json:"properties"`
			}
			if err := try(in, armTok, "GET", w.assignment+"?api-version=2022-04-01", nil, 200, &ra); err != nil || ra.Properties.PrincipalID != w.spObjectID {
				t.Fatalf("after kill %d: acknowledged role assignment %s lost or changed: %v %+v", round, w.assignment, err, ra)
			}
		}
	}
}
