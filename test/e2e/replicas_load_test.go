package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestReplicasUnderMixedLoad: two replicas on one PostgreSQL under a mixed
// load for 20 s, each request sent to a replica picked at random: client
// credential tokens, secret resets (a new secret added, the old one
// removed), role assignments (PUT, GET, DELETE) and user sign-ins whose
// refresh tokens are redeemed in turn. Once a write is answered, both
// replicas act on it at their next request:
//   - the fresh secret is accepted by both, the removed one refused by both
//     (AADSTS7000215);
//   - the assignment reads back on the other replica, whose RBAC lets the
//     principal (Reader through it alone) read the group; after the
//     deletion it is gone there and the principal refused; the next
//     assignment of the same role, principal and scope is accepted
//     wherever it is sent;
//   - a rotated refresh token's predecessor is refused by both
//     (AADSTS9002313).
//
// No answer is a 5xx.
func TestReplicasUnderMixedLoad(t *testing.T) {
	pgURL := postgresURL(t)
	dataDir := t.TempDir()
	a := start(t, dataDir, "--store", pgURL, "--quiet")
	b := start(t, dataDir, "--store", pgURL, "--quiet")
	l := &mixedLoad{replicas: []*instance{a, b}, tid: a.env["AZURE_TENANT_ID"], counts: map[string]int{}, inconsistencies: map[string]int{},
		graphTok: map[*instance]string{}, armTok: map[*instance]string{}}
	// Tokens asked for directly carry the replica's own URL as issuer:
	// each replica gets its own.
	for _, in := range l.replicas {
		l.graphTok[in] = in.adminToken(t, "https://graph.microsoft.com/.default")
		l.armTok[in] = in.adminToken(t, armScope)
	}
	sub := "/subscriptions/" + a.env["AKSID_SUBSCRIPTION_ID"]

	owners := l.secretOwners(t)
	holders := l.roleHolders(t, sub)
	steady := a.createSP("load-tokens")
	admin := adminUser(t, a)
	other := a.createUser(t, "--name", "load@aksid.local")
	users := []userCreds{admin, {other.UPN, other.Password}}

	l.until = time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for _, o := range owners {
		wg.Go(func() { l.resetSecrets(o.sp, o.appObjectID, o.keyID) })
	}
	for _, h := range holders {
		wg.Go(func() { l.assignRoles(h.principalID, h.scope, h.token, sub) })
	}
	for _, u := range users {
		wg.Go(func() { l.refreshSignIns(u) })
	}
	for range 2 {
		wg.Go(func() { l.tokens(steady) })
	}
	wg.Wait()

	l.report(t)
	for _, want := range []string{"token", "secret add", "secret remove", "role assign", "role read", "role delete", "sign-in", "refresh"} {
		if l.counts[want] == 0 {
			t.Errorf("no %s request ran", want)
		}
	}
}

// mixedLoad is TestReplicasUnderMixedLoad's shared state. Its workers
// never stop the test from their goroutines: they record what went wrong.
type mixedLoad struct {
	replicas         []*instance
	tid              string
	graphTok, armTok map[*instance]string // the bootstrap admin's, per replica
	until            time.Time

	mu              sync.Mutex
	counts          map[string]int // requests by kind
	inconsistencies map[string]int // by kind
	wrong           []string       // the first 10, in detail
}

// secretOwner is a principal whose secrets a worker resets, with its
// application's object ID and its first secret's key ID.
type secretOwner struct {
	sp                 spJSON
	appObjectID, keyID string
}

// secretOwners makes two principals (through the CLI, on the newest
// replica) for resetSecrets.
func (l *mixedLoad) secretOwners(t *testing.T) []secretOwner {
	t.Helper()
	a := l.replicas[0]
	var owners []secretOwner
	for i := range 2 {
		sp := l.replicas[1].createSP(fmt.Sprintf("load-secrets-%d", i))
		var apps struct{ Value []struct{ ID string } }
		if err := try(a, l.graphTok[a], "GET", "/v1.0/applications?$filter=appId%20eq%20'"+sp.AppID+"'", nil, 200, &apps); err != nil || len(apps.Value) != 1 {
			t.Fatalf("application of %s: %v %+v", sp.AppID, err, apps)
		}
		var app struct {
			PasswordCredentials []struct{ KeyID string } `json:"passwordCredentials"`
		}
		if err := try(a, l.graphTok[a], "GET", "/v1.0/applications/"+apps.Value[0].ID, nil, 200, &app); err != nil || len(app.PasswordCredentials) != 1 {
			t.Fatalf("credentials: %v %+v", err, app)
		}
		owners = append(owners, secretOwner{sp, apps.Value[0].ID, app.PasswordCredentials[0].KeyID})
	}
	return owners
}

// roleHolder is a principal a worker assigns Reader on its own resource
// group, with its ARM token from each replica.
type roleHolder struct {
	principalID, scope string
	token              map[*instance]string
}

func (l *mixedLoad) roleHolders(t *testing.T, sub string) []roleHolder {
	t.Helper()
	a := l.replicas[0]
	var holders []roleHolder
	for i := range 2 {
		sp := a.createSP(fmt.Sprintf("load-roles-%d", i))
		var sps struct{ Value []struct{ ID string } }
		if err := try(a, l.graphTok[a], "GET", "/v1.0/servicePrincipals?$filter=appId%20eq%20'"+sp.AppID+"'", nil, 200, &sps); err != nil || len(sps.Value) != 1 {
			t.Fatalf("service principal of %s: %v %+v", sp.AppID, err, sps)
		}
		scope := fmt.Sprintf("%s/resourceGroups/load-%d", sub, i)
		a.armAdmin(t, "PUT", scope+"?api-version=2021-04-01", `{"location":"westus2"}`)
		h := roleHolder{sps.Value[0].ID, scope, map[*instance]string{}}
		for _, in := range l.replicas {
			st, m := in.rawToken(sp.AppID, sp.Password, armScope)
			if st != 200 {
				t.Fatalf("token of %s: %d %v", sp.AppID, st, m)
			}
			h.token[in] = m["access_token"].(string)
		}
		holders = append(holders, h)
	}
	return holders
}

// report logs the requests and inconsistencies by kind, and fails the
// test on any inconsistency.
func (l *mixedLoad) report(t *testing.T) {
	t.Helper()
	tally := func(m map[string]int) (int, string) {
		total, parts := 0, make([]string, 0, len(m))
		for k, n := range m {
			total += n
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
		slices.Sort(parts)
		return total, strings.Join(parts, ", ")
	}
	total, kinds := tally(l.counts)
	t.Logf("%d requests over two replicas in 20 s: %s", total, kinds)
	n, wrong := tally(l.inconsistencies)
	t.Logf("%d inconsistencies (%s)", n, wrong)
	if n > 0 {
		t.Errorf("%d inconsistencies, the first:\n%s", n, strings.Join(l.wrong, "\n"))
	}
}

func (l *mixedLoad) running() bool { return time.Now().Before(l.until) }

func (l *mixedLoad) pick() *instance { return l.replicas[rand.IntN(len(l.replicas))] }

func (l *mixedLoad) other(in *instance) *instance {
	if in == l.replicas[0] {
		return l.replicas[1]
	}
	return l.replicas[0]
}

// fail records an inconsistency of a kind (what), with its detail.
func (l *mixedLoad) fail(what, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inconsistencies[what]++
	if len(l.wrong) < 10 {
		l.wrong = append(l.wrong, what+": "+fmt.Sprintf(format, args...))
	}
}

// pause keeps a worker whose step failed from spinning.
func pause() { time.Sleep(50 * time.Millisecond) }

// send sends one request of kind to in and decodes a JSON answer. A
// transport error or a 5xx is an inconsistency; the status is 0 then.
func (l *mixedLoad) send(in *instance, kind string, req *http.Request) (int, map[string]any) {
	l.mu.Lock()
	l.counts[kind]++
	l.mu.Unlock()
	resp, err := in.client.Do(req)
	if err != nil {
		l.fail("no answer", "%s on %s: %v", kind, in.url, err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if resp.StatusCode >= 500 {
		l.fail("5xx", "%s on %s: %s %s", kind, in.url, resp.Status, raw)
		return 0, nil
	}
	return resp.StatusCode, m
}

// call sends one request with a JSON body (nil for none) and a bearer
// token, one of in's own from tokens.
func (l *mixedLoad) call(in *instance, kind string, tokens map[*instance]string, method, path string, body any) (int, map[string]any) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.url+path, r)
	req.Header.Set("Authorization", "Bearer "+tokens[in])
	req.Header.Set("Content-Type", "application/json")
	return l.send(in, kind, req)
}

func (l *mixedLoad) token(in *instance, kind string, form url.Values) (int, map[string]any) {
	req, _ := http.NewRequest("POST", in.url+"/"+l.tid+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return l.send(in, kind, req)
}

func (l *mixedLoad) clientToken(in *instance, kind, appID, secret string) (int, map[string]any) {
	return l.token(in, kind, url.Values{"grant_type": {"client_credentials"}, "client_id": {appID},
		"client_secret": {secret}, "scope": {armScope}})
}

// tokens asks for client-credential tokens with a secret nobody changes.
func (l *mixedLoad) tokens(sp spJSON) {
	for l.running() {
		in := l.pick()
		if st, m := l.clientToken(in, "token", sp.AppID, sp.Password); st != 200 || m["access_token"] == nil {
			l.fail("token refused", "on %s: %d %v", in.url, st, m)
		}
	}
}

// resetSecrets adds a secret, checks both replicas take it, removes the
// previous one and checks both refuse it, over and over.
func (l *mixedLoad) resetSecrets(sp spJSON, appObjectID, keyID string) {
	secret := sp.Password
	for l.running() {
		st, m := l.call(l.pick(), "secret add", l.graphTok, "POST", "/v1.0/applications/"+appObjectID+"/addPassword", map[string]any{})
		fresh, _ := m["secretText"].(string)
		freshKey, _ := m["keyId"].(string)
		if st != 200 || fresh == "" || freshKey == "" {
			l.fail("addPassword failed", "%d %v", st, m)
			pause()
			continue
		}
		for _, in := range l.replicas {
			if st, m := l.clientToken(in, "token", sp.AppID, fresh); st != 200 {
				l.fail("a secret just added refused", "on %s: %d %v", in.url, st, m)
			}
		}
		if st, m := l.call(l.pick(), "secret remove", l.graphTok, "POST", "/v1.0/applications/"+appObjectID+"/removePassword",
			map[string]any{"keyId": keyID}); st != 204 {
			l.fail("removePassword failed", "%d %v", st, m)
			pause()
			continue
		}
		for _, in := range l.replicas {
			if st, m := l.clientToken(in, "token", sp.AppID, secret); st != 401 || errorCode(m) != 7000215 {
				l.fail("a secret just removed accepted", "on %s: %d %v", in.url, st, m)
			}
		}
		secret, keyID = fresh, freshKey
	}
}

// assignRoles gives a principal Reader on scope through one replica, reads
// the assignment back through the other, deletes it through either and
// reads its absence through the other. Each time the principal also reads
// the scope through the replica that did not write: allowed while the
// assignment exists, refused once it is gone.
func (l *mixedLoad) assignRoles(principalID, scope string, principalToken map[*instance]string, sub string) {
	const v = "?api-version=2022-04-01"
	body := map[string]any{"properties": map[string]any{"principalId": principalID, "principalType": "ServicePrincipal",
		"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/" + readerRole}}
	for l.running() {
		id := scope + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString()
		w := l.pick()
		if st, m := l.call(w, "role assign", l.armTok, "PUT", id+v, body); st != 201 {
			l.fail("role assignment PUT refused "+armCode(m), "on %s: %d %v", w.url, st, m)
			pause()
			continue
		}
		r := l.other(w)
		st, m := l.call(r, "role read", l.armTok, "GET", id+v, nil)
		props, _ := m["properties"].(map[string]any)
		if st != 200 || props["principalId"] != principalID {
			l.fail("a role assignment just made not read back", "made on %s, read on %s: %d %v", w.url, r.url, st, m)
		}
		if st, m := l.call(r, "rbac check", principalToken, "GET", scope+"?api-version=2021-04-01", nil); st != 200 {
			l.fail("an assignment just made not followed by the other replica's RBAC", "made on %s, decided on %s: %d %v", w.url, r.url, st, m)
		}
		w = l.pick()
		if st, m := l.call(w, "role delete", l.armTok, "DELETE", id+v, nil); st != 200 {
			l.fail("role assignment DELETE refused "+armCode(m), "on %s: %d %v", w.url, st, m)
			pause()
			continue
		}
		r = l.other(w)
		if st, m := l.call(r, "role read", l.armTok, "GET", id+v, nil); st != 404 {
			l.fail("a role assignment just deleted read back", "deleted on %s, read on %s: %d %v", w.url, r.url, st, m)
		}
		if st, m := l.call(r, "rbac check", principalToken, "GET", scope+"?api-version=2021-04-01", nil); st != 403 || armCode(m) != "AuthorizationFailed" {
			l.fail("an assignment just deleted still granting on the other replica", "deleted on %s, decided on %s: %d %v", w.url, r.url, st, m)
		}
	}
}

// refreshSignIns signs the user in now and then (ROPC, as kubelogin's
// ropc mode) and redeems each refresh token once, on either replica; the
// rotated one must then be refused by both.
func (l *mixedLoad) refreshSignIns(u userCreds) {
	var rt string
	for i := 0; l.running(); i++ {
		if i%8 == 0 { // a password check (argon2id) is dear: refresh more often than sign in
			st, m := l.token(l.pick(), "sign-in", url.Values{"grant_type": {"password"}, "client_id": {aksClientApp}, "username": {u.upn},
				"password": {u.password}, "scope": {aksServerApp + "/.default offline_access openid"}})
			rt, _ = m["refresh_token"].(string)
			if st != 200 || rt == "" {
				l.fail("sign-in refused", "%s: %d %v", u.upn, st, m)
				pause()
				i = -1 // sign in again
				continue
			}
		}
		refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {aksClientApp}, "refresh_token": {rt}}
		st, m := l.token(l.pick(), "refresh", refresh)
		next, _ := m["refresh_token"].(string)
		if st != 200 || next == "" || next == rt {
			l.fail("refresh refused", "%s: %d %v", u.upn, st, m)
			pause()
			i = -1
			continue
		}
		for _, in := range l.replicas {
			if st, m := l.token(in, "refresh", refresh); st != 400 || errorCode(m) != 9002313 {
				l.fail("a rotated refresh token not refused", "on %s: %d %v", in.url, st, m)
			}
		}
		rt = next
	}
}

// armCode is an ARM error body's code.
func armCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}
