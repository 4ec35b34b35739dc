package app

import (
	"context"
	"net/url"
	"strings"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/envvar"
	"github.com/aksid/aksid/internal/hosts"
	"github.com/aksid/aksid/internal/imds"
)

// hostOps are the emulated hosts, on a running server only (their env
// names the server's ports).
type hostOps struct {
	hosts     *hosts.Service
	httpProxy string // the plain-HTTP proxy URL ("" when off)
	url       string // the HTTPS listener
}

// CreateHost makes an emulated virtual machine with its identities.
func (o *Ops) CreateHost(ctx context.Context, req admin.HostRequest) (admin.HostView, error) {
	if o.hostOps == nil {
		return admin.HostView{}, errNeedsServer
	}
	h, err := o.hostOps.hosts.CreateVM(ctx, hosts.VMSpec{TenantID: bootstrap.TenantID, SubscriptionID: bootstrap.SubscriptionID,
		Name: req.Name, SystemAssigned: req.SystemAssigned, UserAssigned: req.Identities})
	if err != nil {
		return admin.HostView{}, err
	}
	return o.hostOps.view(ctx, h)
}

// Hosts lists the hosts with the identities each may act as now.
func (o *Ops) Hosts(ctx context.Context) ([]admin.HostView, error) {
	if o.hostOps == nil {
		return nil, errNeedsServer
	}
	list, err := o.hostOps.hosts.List(ctx)
	if err != nil {
		return nil, err
	}
	out := []admin.HostView{}
	for _, h := range list {
		v, err := o.hostOps.view(ctx, h)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// HostEnv tells how a caller speaks for the host; "<group>/<cluster>"
// names a node of that cluster (made a host on first use).
func (o *Ops) HostEnv(ctx context.Context, name string) (admin.HostEnv, error) {
	if o.hostOps == nil {
		return admin.HostEnv{}, errNeedsServer
	}
	if err := hosts.CheckName(name); err != nil {
		return admin.HostEnv{}, err
	}
	h, err := o.hostOps.hosts.Get(ctx, name)
	if err != nil && strings.Contains(name, "/") {
		var id string
		if id, err = ClusterID(name); err == nil {
			h, err = o.hostOps.hosts.EnsureCluster(ctx, name, id)
		}
	}
	if err != nil {
		return admin.HostEnv{}, err
	}
	secret := o.hostOps.hosts.Secret(h)
	env := admin.HostEnv{Name: h.Name, IdentityHeader: secret, IdentityEndpoint: o.hostOps.url + imds.AppServicePath}
	if o.hostOps.httpProxy != "" {
		u, err := url.Parse(o.hostOps.httpProxy)
		if err != nil {
			return admin.HostEnv{}, err
		}
		u.User = url.UserPassword(h.Name, secret)
		env.HTTPProxy = u.String()
		env.IdentityEndpoint = o.hostOps.httpProxy + imds.AppServicePath
	}
	return env, nil
}

// DeleteHost removes a host and its system-assigned identity.
func (o *Ops) DeleteHost(ctx context.Context, name string) error {
	if o.hostOps == nil {
		return errNeedsServer
	}
	return o.hostOps.hosts.Delete(ctx, name)
}

func (h *hostOps) view(ctx context.Context, host hosts.Host) (admin.HostView, error) {
	ids, err := h.hosts.Identities(ctx, host)
	if err != nil {
		return admin.HostView{}, err
	}
	v := admin.HostView{Name: host.Name, Kind: host.Kind, ResourceID: host.ResourceID, UserAssigned: []admin.HostIdentity{}}
	for i, id := range ids {
		hi := admin.HostIdentity{ClientID: id.ClientID, PrincipalID: id.PrincipalID, ResourceID: id.ResourceID}
		if i == 0 && host.System != nil {
			v.SystemAssigned = &hi
			continue
		}
		v.UserAssigned = append(v.UserAssigned, hi)
	}
	return v, nil
}

// AppServiceEnvLines are `aksid host env --app-service`'s shell lines.
func AppServiceEnvLines(env admin.HostEnv) string {
	return exportLines([][2]string{{envvar.Host, env.Name}, {envvar.IdentityEndpoint, env.IdentityEndpoint}, {envvar.IdentityHeader, env.IdentityHeader}})
}

// IMDSEnvLines are `aksid host env`'s shell lines: HTTP_PROXY with the
// host's credentials, App Service variables unset so clients pick IMDS.
// http_proxy too, or the lowercase one `aksid env` printed would still
// speak for the default host to curl and Python (which prefers it).
func IMDSEnvLines(env admin.HostEnv) string {
	return "unset " + strings.Join([]string{envvar.IdentityEndpoint, envvar.IdentityHeader, envvar.MSIEndpoint, envvar.MSISecret}, " ") + "\n" +
		exportLines([][2]string{{envvar.Host, env.Name}, {envvar.HTTPProxy, env.HTTPProxy}, {envvar.HTTPProxyLower, env.HTTPProxy}})
}
