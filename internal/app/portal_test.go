package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/bootstrap"
)

// TestPortalApp: the portal's first-party public client keeps the
// callback of every URL aksid served it on (the newest 20), stays out of
// the tenant's own registrations, and GET / on aksid's URL starts its
// sign-in at aksid's authorize page.
func TestPortalApp(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	if err := ensurePortalApp(ctx, s.Ops.dir, "https://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if err := ensurePortalApp(ctx, s.Ops.dir, "https://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	app, err := s.Ops.dir.Application(ctx, PortalAppID)
	if err != nil {
		t.Fatal(err)
	}
	var pc struct{ RedirectURIs []string }
	_ = json.Unmarshal(app.Extra["publicClient"], &pc)
	if len(pc.RedirectURIs) != 2 || pc.RedirectURIs[0] != s.URL+"/portal/callback" || pc.RedirectURIs[1] != "https://127.0.0.1:1/portal/callback" || !app.PublicClient {
		t.Fatalf("portal app %+v %v", app, pc.RedirectURIs)
	}
	if _, err := s.Ops.dir.ServicePrincipal(ctx, bootstrap.TenantID, PortalAppID); err != nil {
		t.Fatal(err)
	}
	if app.TenantID == bootstrap.TenantID {
		t.Fatal("the portal is registered in the tenant itself")
	}
	c := *s.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, s.URL+"/"+bootstrap.TenantID+"/oauth2/v2.0/authorize?") ||
		!strings.Contains(loc, "client_id="+PortalAppID) {
		t.Fatalf("GET /: %d %s", resp.StatusCode, loc)
	}
	// The page it sends the browser to accepts the portal's request.
	resp, err = c.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize page: %d", resp.StatusCode)
	}
}
