package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/store/postgres/pgtest"
)

// TestPostgresOutage: PostgreSQL stops under load and comes back. While it
// is down, token and Graph requests fail with 503 in Entra's and Graph's
// shapes (AADSTS90033, serviceNotAvailable), none is answered otherwise,
// and service resumes by itself once it is back.
func TestPostgresOutage(t *testing.T) {
	pgs, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pgs.Stop)
	dbURL, err := pgs.NewDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	in := start(t, "", "--store", dbURL)
	graphTok := in.adminToken(t, "https://graph.microsoft.com/.default")
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {in.env["AKSID_ADMIN_CLIENT_ID"]},
		"client_secret": {in.env["AKSID_ADMIN_CLIENT_SECRET"]}, "scope": {armScope}}.Encode()

	var ok, unavailable atomic.Int64
	var mu sync.Mutex
	var wrong []string
	bad := func(s string) {
		mu.Lock()
		if len(wrong) < 5 {
			wrong = append(wrong, s)
		}
		mu.Unlock()
	}
	var lastOK atomic.Int64 // unix nanos of the last success
	tokenOnce := func() {
		resp, err := in.client.Post(in.url+"/"+in.env["AZURE_TENANT_ID"]+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			bad("token: " + err.Error())
			return
		}
		defer resp.Body.Close()
		var m struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
			ErrorCodes  []int  `json:"error_codes"`
		}
		body, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(body, &m)
		switch {
		case resp.StatusCode == 200 && strings.Count(m.AccessToken, ".") == 2:
			ok.Add(1)
			lastOK.Store(time.Now().UnixNano())
		case resp.StatusCode == 503 && m.Error == "temporarily_unavailable" && len(m.ErrorCodes) == 1 && m.ErrorCodes[0] == 90033 && resp.Header.Get("Retry-After") != "":
			unavailable.Add(1)
		default:
			bad("token: " + resp.Status + " " + string(body))
		}
	}
	graphOnce := func() {
		req, _ := http.NewRequest("GET", in.url+"/v1.0/applications?$top=1", nil)
		req.Header.Set("Authorization", "Bearer "+graphTok)
		resp, err := in.client.Do(req)
		if err != nil {
			bad("graph: " + err.Error())
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var m struct {
			Value []any `json:"value"`
			Error struct{ Code string }
		}
		_ = json.Unmarshal(body, &m)
		switch {
		case resp.StatusCode == 200 && m.Value != nil:
			ok.Add(1)
		case resp.StatusCode == 503 && m.Error.Code == "serviceNotAvailable":
			unavailable.Add(1)
		default:
			bad("graph: " + resp.Status + " " + string(body))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if i == 0 {
					graphOnce()
				} else {
					tokenOnce()
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	probe := func(path string) (int, string) {
		resp, err := in.client.Get(in.url + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	time.Sleep(500 * time.Millisecond)
	okBefore := ok.Load()
	if st, body := probe("/readyz"); st != 200 {
		t.Errorf("readyz before the outage: %d %s", st, body)
	}
	pgs.Down()
	time.Sleep(2 * time.Second)
	downUnavailable := unavailable.Load()
	// Ready says why not, so a balancer sends requests to another replica;
	// alive it still is.
	if st, body := probe("/readyz"); st != 503 || !strings.Contains(body, `"store":"unreachable"`) {
		t.Errorf("readyz during the outage: %d %s", st, body)
	}
	if st, body := probe("/healthz"); st != 200 {
		t.Errorf("healthz during the outage: %d %s", st, body)
	}
	if err := pgs.Up(); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	up := time.Now()
	// Service resumes by itself: a success after the restart.
	for time.Since(up) < 20*time.Second && lastOK.Load() < up.UnixNano() {
		time.Sleep(50 * time.Millisecond)
	}
	resumed := time.Duration(lastOK.Load() - up.UnixNano())
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(wrong) > 0 {
		t.Fatalf("answered neither rightly nor as unavailable: %q", wrong)
	}
	if okBefore == 0 || downUnavailable == 0 {
		t.Fatalf("%d successes before the outage, %d unavailable during it", okBefore, downUnavailable)
	}
	if resumed < 0 {
		t.Fatal("no success within 20 s of PostgreSQL's return")
	}
	t.Logf("%d answered, %d unavailable while PostgreSQL was down; first success %v after its return", ok.Load(), unavailable.Load(), resumed.Round(time.Millisecond))
}
