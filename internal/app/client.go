package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"crypto/rand"

	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/httpjson"
)

// AdminClient calls a running server's admin endpoints.
type AdminClient struct {
	url   string
	token string
	http  *http.Client
}

// Admin returns a client for the server running on dd, or nil when none
// runs.
func (dd DataDir) Admin() (*AdminClient, error) {
	info, ok := dd.RunningServer()
	if !ok {
		return nil, nil
	}
	kr, err := dd.ExistingKeyring()
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(dd.Path("ca.pem"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return &AdminClient{url: info.URL, token: adminToken(kr), http: hc}, nil
}

// Do sends one admin request and decodes the JSON answer into out.
func (c *AdminClient) Do(ctx context.Context, method, path string, in, out any) error {
	req, err := httpjson.NewRequest(ctx, method, c.url+path, in)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach aksid at %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("aksid answered %s", resp.Status)
	}
	return json.Unmarshal(b, out)
}

// OfflineOps are the admin operations on the data directory's own store,
// for when no server runs; Close closes the store.
type OfflineOps struct {
	*Ops
}

// Close closes the store the operations opened.
func (o OfflineOps) Close() error { return o.st.Close() }

// OfflineOps opens the data directory's store for the admin commands when
// no server runs; close it when done.
func (dd DataDir) OfflineOps(ctx context.Context) (OfflineOps, error) {
	kr, err := dd.ExistingKeyring()
	if err != nil {
		return OfflineOps{}, err
	}
	st, err := recordedStore(ctx, dd)
	if err != nil {
		return OfflineOps{}, err
	}
	offset, err := loadClockOffset(ctx, st)
	if err != nil {
		st.Close()
		return OfflineOps{}, err
	}
	wall := clock.Wall{}
	vclock := clock.NewVirtual(wall, offset)
	dir := directory.New(st, vclock, rand.Reader)
	if _, err := bootstrap.Ensure(ctx, st, dir, vclock, kr); err != nil {
		st.Close()
		return OfflineOps{}, err
	}
	return OfflineOps{&Ops{st: st, dir: dir, clk: vclock, wall: wall}}, nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
