// Package origin describes how a request reached aksid — directly on its own URL or through the proxy as an Azure host — and the issuers its tokens carry.
//
// The listener fills one Origin per request and every face reads it from
// the request's context, so no face needs the listener or another face to
// know where it is being served.
package origin

import "context"

// Azure public cloud's issuer and login bases, which tokens carry when
// clients reach aksid as Azure (through the proxy, or the managed-identity
// endpoints that only exist there). This is the one place they are spelt.
const (
	AzureV1Base = "https://sts.windows.net"
	AzureV2Base = "https://login.microsoftonline.com"
	AzureGraph  = "https://graph.microsoft.com"
)

// azureLoginBases are the other names Azure's token service answers on;
// assertions may name any of them as their audience.
var azureLoginBases = [...]string{AzureV2Base, "https://login.windows.net", "https://login.microsoft.com", AzureV1Base}

// Issuers are the issuer bases for a request: the host it came in on
// directly, or Azure's own when it came through the proxy.
type Issuers struct {
	V1Base string // e.g. https://sts.windows.net
	V2Base string // e.g. https://login.microsoftonline.com
}

// Azure are the issuers of tokens requested as Azure.
func Azure() Issuers { return Issuers{V1Base: AzureV1Base, V2Base: AzureV2Base} }

// IsAzure tells whether the issuers are Azure's own.
func (i Issuers) IsAzure() bool { return i == Azure() }

// V1 is the v1 issuer for tenant tid.
func (i Issuers) V1(tid string) string { return i.V1Base + "/" + tid + "/" }

// V2 is the v2 issuer for tenant tid.
func (i Issuers) V2(tid string) string { return i.V2Base + "/" + tid + "/v2.0" }

// Graph is the Microsoft Graph base that goes with these issuers: Azure's
// through the proxy, aksid's own URL directly.
func (i Issuers) Graph() string {
	if i.IsAzure() {
		return AzureGraph
	}
	return i.V2Base
}

// Origin is how one request reached aksid.
type Origin struct {
	Base       string // scheme://host the caller used
	Tunnel     string // the Azure host reached through the proxy; "" when direct
	Issuers    Issuers
	LoginBases []string // every base a token or assertion of aksid may name
}

// ViaProxy tells whether the request came through the proxy.
func (o Origin) ViaProxy() bool { return o.Tunnel != "" }

// Direct is the origin of a request on aksid's own URL base. canonical,
// when different, is the URL aksid announces (a client may use localhost
// where aksid says 127.0.0.1).
func Direct(base, canonical string) Origin {
	bases := append([]string{base}, azureLoginBases[:]...)
	if canonical != "" && canonical != base {
		bases = append(bases, canonical)
	}
	return Origin{Base: base, Issuers: Issuers{V1Base: base, V2Base: base}, LoginBases: bases}
}

// Proxied is the origin of a request for Azure's host through the proxy of
// the aksid at canonical.
func Proxied(host, canonical string) Origin {
	return Origin{Base: "https://" + host, Tunnel: host, Issuers: Azure(),
		LoginBases: append([]string{canonical}, azureLoginBases[:]...)}
}

type ctxKey struct{}

// NewContext returns ctx carrying o.
func NewContext(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, ctxKey{}, o)
}

// FromContext is the origin the listener recorded, or the zero Origin
// for a request that did not pass through it.
func FromContext(ctx context.Context) Origin {
	o, _ := ctx.Value(ctxKey{}).(Origin)
	return o
}
