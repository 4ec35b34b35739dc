package origin

import (
	"context"
	"slices"
	"testing"
)

func TestProxiedCarriesAzureIssuersAndAksidLoginBase(t *testing.T) {
	o := Proxied("login.microsoftonline.com", "https://127.0.0.1:8443")
	if !o.ViaProxy() || o.Base != "https://login.microsoftonline.com" {
		t.Fatalf("proxied origin %+v", o)
	}
	if got := o.Issuers.V1("t"); got != "https://sts.windows.net/t/" {
		t.Errorf("v1 issuer %q", got)
	}
	if got := o.Issuers.V2("t"); got != "https://login.microsoftonline.com/t/v2.0" {
		t.Errorf("v2 issuer %q", got)
	}
	if o.Issuers.Graph() != AzureGraph {
		t.Errorf("graph %q", o.Issuers.Graph())
	}
	if !slices.Contains(o.LoginBases, "https://127.0.0.1:8443") || !slices.Contains(o.LoginBases, AzureV1Base) {
		t.Errorf("login bases %v", o.LoginBases)
	}
}

func TestDirectUsesTheCallersBaseAndKeepsTheCanonical(t *testing.T) {
	o := Direct("https://localhost:8443", "https://127.0.0.1:8443")
	if o.ViaProxy() || o.Issuers.V1("t") != "https://localhost:8443/t/" || o.Issuers.Graph() != "https://localhost:8443" {
		t.Fatalf("direct origin %+v", o)
	}
	if !slices.Contains(o.LoginBases, "https://127.0.0.1:8443") || o.LoginBases[0] != "https://localhost:8443" {
		t.Errorf("login bases %v", o.LoginBases)
	}
	if n := len(Direct("https://127.0.0.1:8443", "https://127.0.0.1:8443").LoginBases); n != 5 {
		t.Errorf("canonical listed twice: %d bases", n)
	}
}

func TestContextRoundTrip(t *testing.T) {
	if FromContext(context.Background()).Base != "" {
		t.Fatal("an unrecorded origin must be zero")
	}
	o := Direct("https://127.0.0.1:1", "")
	if got := FromContext(NewContext(context.Background(), o)); got.Base != o.Base {
		t.Fatalf("round trip: %+v", got)
	}
}
