package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aksid/aksid/aksidtest"
)

// server is a real aksid started in-process (aksidtest), reached over
// HTTPS with its CA: the Graph face sees real tokens.
type server struct {
	*aksidtest.Server
	client *http.Client
	admin  string // the bootstrap admin principal's Graph token
}

func start(t *testing.T) *server {
	t.Helper()
	srv := aksidtest.New(t)
	s := &server{Server: srv, client: srv.Client}
	s.admin = s.token(t, srv.AdminAppID, srv.AdminSecret, "https://graph.microsoft.com/.default")
	return s
}

// token runs the client-credentials grant, as azidentity and az do.
func (s *server) token(t *testing.T, clientID, secret, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	resp, err := s.client.PostForm(s.URL+"/"+s.TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token for %s: %d %s", clientID, resp.StatusCode, b)
	}
	return tok.AccessToken
}

// reply is a decoded Graph answer.
type reply struct {
	status int
	m      map[string]any
	raw    string
	header http.Header
}

func (r reply) str(key string) string { s, _ := r.m[key].(string); return s }

func (r reply) values() []map[string]any {
	var out []map[string]any
	list, _ := r.m["value"].([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

func (r reply) errCode() string {
	e, _ := r.m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r reply) errMessage() string {
	e, _ := r.m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// call sends one Graph request; body may be a string (sent as is) or a
// value (sent as JSON).
func (s *server) call(t *testing.T, token, method, path string, body any) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	target := path
	if !strings.HasPrefix(path, "https://") {
		target = s.URL + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(raw), header: resp.Header}
	_ = json.Unmarshal(raw, &r.m)
	return r
}

// must checks the status and returns the reply.
func (s *server) must(t *testing.T, status int, token, method, path string, body any) reply {
	t.Helper()
	r := s.call(t, token, method, path, body)
	if r.status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

// filter builds a $filter query the way az does: Python's
// quote(filter, safe="") with spaces as %20.
func filter(f string) string {
	return "?$filter=" + strings.ReplaceAll(url.QueryEscape(f), "+", "%20")
}
