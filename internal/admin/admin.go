// Package admin is the operator's HTTP face on loopback: the clock, service principals, key rotation and cluster checks, for the aksid CLI.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/cloudprovider"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
)

// Ops is what the face drives; internal/app implements it.
type Ops[C, S any] interface {
	Clock() C
	AdvanceClock(ctx context.Context, d time.Duration) (C, error)
	SetClock(ctx context.Context, t time.Time) (C, error)
	ResetClock(ctx context.Context) (C, error)
	CreateSP(ctx context.Context, name string, years int, certDER []byte) (S, error)
	RotateKeys(ctx context.Context) error
	CheckCluster(ctx context.Context, req cloudprovider.Request) ([]cloudprovider.Check, error)
	AzureJSON(ctx context.Context, clusterID string) (map[string]any, error)
	ServiceAccountToken(ctx context.Context, req SATokenRequest) (SAToken, error)
	CreateHost(ctx context.Context, req HostRequest) (HostView, error)
	Hosts(ctx context.Context) ([]HostView, error)
	HostEnv(ctx context.Context, name string) (HostEnv, error)
	DeleteHost(ctx context.Context, name string) error
}

// SATokenRequest asks for a cluster's projected service-account token.
type SATokenRequest struct {
	ClusterID      string   `json:"clusterId"`
	Namespace      string   `json:"namespace"`
	ServiceAccount string   `json:"serviceAccount"`
	Audiences      []string `json:"audiences,omitempty"`
	Duration       string   `json:"duration,omitempty"` // e.g. 1h; default 1h
}

// SAToken is a minted service-account token.
type SAToken struct {
	Token  string `json:"token"`
	Issuer string `json:"issuer"`
}

// HostRequest makes an emulated virtual machine host.
type HostRequest struct {
	Name           string   `json:"name"`
	SystemAssigned bool     `json:"systemAssigned"`
	Identities     []string `json:"identities"` // user-assigned identity resource IDs
}

// HostName names a host: a VM's name or "<group>/<cluster>".
type HostName struct {
	Name string `json:"name"`
}

// HostIdentity is one identity a host may act as.
type HostIdentity struct {
	ClientID    string `json:"clientId"`
	PrincipalID string `json:"principalId"`
	ResourceID  string `json:"resourceId"`
}

// HostView is a host as the CLI shows it.
type HostView struct {
	Name           string         `json:"name"`
	Kind           string         `json:"kind"`
	ResourceID     string         `json:"resourceId"`
	SystemAssigned *HostIdentity  `json:"systemAssigned"`
	UserAssigned   []HostIdentity `json:"userAssignedIdentities"`
}

// HostEnv is how a caller speaks for a host: the IMDS form through the
// proxy with the host's credentials, or the App Service form.
type HostEnv struct {
	Name             string `json:"name"`
	HTTPProxy        string `json:"httpProxy"`
	IdentityEndpoint string `json:"identityEndpoint"`
	IdentityHeader   string `json:"identityHeader"`
}

// ClusterRequest names a cluster by resource ID.
type ClusterRequest struct {
	ClusterID string `json:"clusterId"`
}

// ClockRequest moves the clock: action advance (with Duration), set (with
// Time, RFC 3339) or reset.
type ClockRequest struct {
	Action   string `json:"action"`
	Duration string `json:"duration,omitempty"`
	Time     string `json:"time,omitempty"`
}

// SPRequest creates a service principal.
type SPRequest struct {
	Name  string `json:"name"`
	Years int    `json:"years"`
	// CertificateDER registers this certificate instead of a secret.
	CertificateDER []byte `json:"certificateDer,omitempty"`
}

// Register adds the admin routes, guarded by token and loopback origin;
// log receives the causes of internal errors.
func Register[C, S any](mux *http.ServeMux, ops Ops[C, S], token string, log *slog.Logger) {
	guard := gate{token: token, log: log}
	mux.HandleFunc("GET /aksid/admin/clock", guard.wrap(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, ops.Clock())
	}))
	mux.HandleFunc("POST /aksid/admin/clock", guard.wrap(func(w http.ResponseWriter, r *http.Request) {
		var req ClockRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeErr(w, http.StatusBadRequest, "InvalidRequest", "body must be JSON {action, duration|time}")
			return
		}
		var st C
		var err error
		switch req.Action {
		case "advance":
			d, perr := clock.ParseDuration(req.Duration)
			if perr != nil {
				writeErr(w, http.StatusBadRequest, "InvalidDuration", perr.Error())
				return
			}
			st, err = ops.AdvanceClock(r.Context(), d)
		case "set":
			t, perr := time.Parse(time.RFC3339, req.Time)
			if perr != nil {
				writeErr(w, http.StatusBadRequest, "InvalidTime", "time must be RFC 3339, e.g. 2027-01-01T00:00:00Z")
				return
			}
			st, err = ops.SetClock(r.Context(), t)
		case "reset":
			st, err = ops.ResetClock(r.Context())
		default:
			writeErr(w, http.StatusBadRequest, "InvalidAction", "action must be advance, set or reset")
			return
		}
		guard.respond(w, r, st, err)
	}))
	mux.HandleFunc("POST /aksid/admin/sp", action(guard, "{name, years}", nil, func(ctx context.Context, req SPRequest) (S, error) {
		return ops.CreateSP(ctx, req.Name, req.Years, req.CertificateDER)
	}))
	mux.HandleFunc("POST /aksid/admin/keys/rotate", guard.wrap(func(w http.ResponseWriter, r *http.Request) {
		guard.respond(w, r, map[string]bool{"rotated": true}, ops.RotateKeys(r.Context()))
	}))
	mux.HandleFunc("POST /aksid/admin/cluster/check", action(guard, "{clusterId, disks, registries}",
		func(req cloudprovider.Request) bool { return req.ClusterID != "" }, ops.CheckCluster))
	mux.HandleFunc("POST /aksid/admin/cluster/azure-json", action(guard, "{clusterId}",
		func(req ClusterRequest) bool { return req.ClusterID != "" }, func(ctx context.Context, req ClusterRequest) (map[string]any, error) {
			return ops.AzureJSON(ctx, req.ClusterID)
		}))
	mux.HandleFunc("POST /aksid/admin/cluster/sa-token", action(guard, "{clusterId, namespace, serviceAccount, audiences, duration}",
		func(req SATokenRequest) bool { return req.ClusterID != "" }, ops.ServiceAccountToken))
	mux.HandleFunc("POST /aksid/admin/hosts", action(guard, "{name, systemAssigned, identities}",
		func(req HostRequest) bool { return req.Name != "" }, ops.CreateHost))
	mux.HandleFunc("GET /aksid/admin/hosts", query(guard, ops.Hosts))
	named := func(req HostName) bool { return req.Name != "" }
	mux.HandleFunc("POST /aksid/admin/hosts/env", action(guard, "{name}", named, func(ctx context.Context, req HostName) (HostEnv, error) {
		return ops.HostEnv(ctx, req.Name)
	}))
	mux.HandleFunc("POST /aksid/admin/hosts/delete", action(guard, "{name}", named, func(ctx context.Context, req HostName) (map[string]bool, error) {
		return deleted(ops.DeleteHost(ctx, req.Name))
	}))
}

// gate admits loopback callers with the admin token to the handlers it
// wraps, and answers for them.
type gate struct {
	token string
	log   *slog.Logger
}

func (g gate) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		ip := net.ParseIP(host)
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ip == nil || !ip.IsLoopback() || subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) != 1 {
			writeErr(w, http.StatusUnauthorized, "Unauthorized", "the admin endpoints need the data directory's admin token")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		h(w, r)
	}
}

// respond is the face's one error writer: refusals as their codes, and
// anything else a 500 whose cause goes to the log under the request ID.
func (g gate) respond(w http.ResponseWriter, r *http.Request, v any, err error) {
	if e, ok := azerr.As(err); ok {
		if status := azerr.Status(e.Kind); status != http.StatusInternalServerError {
			writeErr(w, status, e.Code, e.Message)
			return
		}
	}
	switch {
	case errors.Is(err, store.ErrUnavailable):
		writeErr(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the store is unavailable; retry the request")
	case errors.Is(err, directory.ErrConflict):
		writeErr(w, http.StatusConflict, "Conflict", reason(err))
	case errors.Is(err, directory.ErrInvalidArgument):
		writeErr(w, http.StatusBadRequest, "InvalidArgument", reason(err))
	case errors.Is(err, directory.ErrUserNotFound), errors.Is(err, directory.ErrObjectNotFound), errors.Is(err, directory.ErrPrincipalNotFound):
		writeErr(w, http.StatusNotFound, "NotFound", reason(err))
	case err != nil:
		id := w.Header().Get("x-ms-request-id")
		g.log.ErrorContext(r.Context(), "admin: internal error", "request_id", id, "path", r.URL.Path, "err", err)
		writeErr(w, http.StatusInternalServerError, "InternalError", "the operation failed; see the server log (request "+id+")")
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// reason is a directory refusal's client text, else the error itself
// (the admin face's callers are the operator's own CLI).
func reason(err error) string {
	if r, ok := directory.Reason(err); ok {
		return r
	}
	return err.Error()
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
