package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/envvar"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func dataDirFlag(cmd *cobra.Command) *string {
	return cmd.Flags().String("data-dir", app.DefaultDataDir(), "state directory (env AKSID_DATA_DIR)")
}

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "serve", Short: "Run aksid on https://127.0.0.1:8443", Args: cobra.NoArgs}
	addr := cmd.Flags().String("addr", "127.0.0.1:8443", "loopback address to listen on (port 0 picks a free port)")
	dir := dataDirFlag(cmd)
	inMemory := cmd.Flags().Bool("in-memory", false, "keep the store in memory (a throwaway run)")
	rotation := cmd.Flags().Duration("key-rotation", 24*time.Hour, "how long a token signing key signs before rotation")
	refresh := cmd.Flags().Duration("refresh", 10*time.Second, "how often to re-read keys and clock shared with other replicas")
	quiet := cmd.Flags().Bool("quiet", false, "log warnings and errors only")
	propagation := cmd.Flags().Duration("rbac-propagation", 0, "delay before new role assignments take effect, on aksid's clock (e.g. 60m)")
	httpProxy := cmd.Flags().String("http-proxy-addr", "127.0.0.1:0", "loopback address of the plain-HTTP proxy port (IMDS, http:// proxies); \"off\" disables it")
	featureDelay := cmd.Flags().Duration("feature-delay", 5*time.Minute, "how long preview feature registration stays Registering, on aksid's clock")
	kubeIdle := cmd.Flags().Duration("kube-idle", 15*time.Minute, "stop a cluster's kube-apiserver after it has been unused this long (it starts again on the next connection)")
	rsaBackend := cmd.Flags().String("rsa-backend", envOr(envvar.RSABackend, "auto"), "what signs tokens: auto (OpenSSL's libcrypto.so.3 when it loads, else Go's crypto/rsa), openssl or go (env "+envvar.RSABackend+")")
	logFormat := cmd.Flags().String("log-format", "text", "log lines as text (key=value) or json (one object per line, for log collectors)")
	adminAddr := cmd.Flags().String("admin-addr", envOr(envvar.AdminAddr, "127.0.0.1:0"), "loopback address of the admin listener, plain HTTP: GET /metrics (Prometheus), /healthz, /readyz; port 0 picks a free one, recorded in <data-dir>/server.json and the banner; \"off\" disables it (env "+envvar.AdminAddr+")")
	publicURL := cmd.Flags().String("public-url", os.Getenv(envvar.PublicURL), "the URL clients reach replicas by, when they share one loopback address (a TCP balancer in front, https://127.0.0.1:PORT): issuers, server.json and printed URLs name it instead of this replica's own address, so any replica accepts what another issued (env "+envvar.PublicURL+")")
	storeURL := cmd.Flags().String("store", os.Getenv(envvar.Store), "PostgreSQL URL (postgres://user@host:port/db) for replicas sharing one database; empty: SQLite in the data directory (env "+envvar.Store+"). Replicas share the data directory's master key and CA")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		level := slog.LevelInfo
		if *quiet {
			level = slog.LevelWarn
		}
		var handler slog.Handler
		switch *logFormat {
		case "text":
			handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
		case "json":
			handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
		default:
			return fmt.Errorf("--log-format %q: want text or json", *logFormat)
		}
		log := slog.New(handler)
		r, err := app.Start(cmd.Context(), app.Config{Addr: *addr, DataDir: *dir, InMemory: *inMemory,
			KeyRotation: *rotation, Refresh: *refresh, RBACPropagation: *propagation, FeatureDelay: *featureDelay, HTTPProxyAddr: *httpProxy, AdminAddr: *adminAddr, PublicURL: *publicURL, KubeIdle: *kubeIdle, RSABackend: *rsaBackend, Store: *storeURL, Log: log})
		if err != nil {
			return err
		}
		r.Banner(cmd.OutOrStdout())
		select {
		case <-cmd.Context().Done():
		case err := <-r.Done():
			if err != nil {
				return err
			}
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 10*time.Second)
		defer cancel()
		return r.Shutdown(ctx)
	}
	return cmd
}

func envCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "env", Short: "Print shell export lines that point clients at aksid", Args: cobra.NoArgs}
	dir := dataDirFlag(cmd)
	direct := cmd.Flags().Bool("direct", false, "custom-cloud mode: clients talk to aksid's own URL (with `aksid az-cloud` for az)")
	asAdmin := cmd.Flags().Bool("as-admin", false, "also export the admin principal as AZURE_CLIENT_ID/AZURE_CLIENT_SECRET (kubelogin then signs in as it in every mode)")
	wait := cmd.Flags().Duration("wait", 0, "wait this long for the server to answer, and fail if it does not (e.g. 30s)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		dd := app.DataDir(*dir)
		// A server being started may not have made its data yet: wait first.
		if *wait > 0 {
			if err := dd.WaitServer(cmd.Context(), *wait); err != nil {
				return fmt.Errorf("%w (waited %s)", err, *wait)
			}
		}
		out, err := envLines(dd, *direct, app.EnvOptions{AsAdmin: *asAdmin})
		if err != nil {
			return err
		}
		if *wait == 0 {
			if err := dd.WaitServer(cmd.Context(), 0); err != nil {
				// Still print: a server may be started next on the default address.
				fmt.Fprintf(cmd.ErrOrStderr(), "aksid env: warning: %v; these lines name the default address, right only for a server started later with the default --addr (use --wait 30s to wait for one)\n", err)
			}
		}
		fmt.Fprint(cmd.OutOrStdout(), out)
		return nil
	}
	return cmd
}

// envLines are the export lines for the chosen way in.
func envLines(dd app.DataDir, direct bool, o app.EnvOptions) (string, error) {
	if direct {
		return dd.DirectEnv(o)
	}
	return dd.ProxyEnv(o)
}

func spCmd() *cobra.Command {
	sp := &cobra.Command{Use: "sp", Short: "Manage service principals"}
	create := &cobra.Command{Use: "create", Short: "Create an app registration, its service principal and a client secret", Args: cobra.NoArgs}
	name := create.Flags().String("name", "", "display name (required)")
	years := create.Flags().Int("years", 1, "credential lifetime in years on aksid's clock")
	createCert := create.Flags().Bool("create-cert", false, "register a new self-signed certificate instead of a secret")
	certFile := create.Flags().String("cert-file", "", "where --create-cert writes the key and certificate (default ~/aksid-sp-*.pem; a name ending in .pfx gets PKCS#12)")
	certPassword := create.Flags().String("cert-password", "", "password of a .pfx --cert-file (default none)")
	dir := dataDirFlag(create)
	_ = create.MarkFlagRequired("name")
	create.RunE = func(cmd *cobra.Command, _ []string) error {
		var certDER []byte
		var written string
		if *createCert {
			var err error
			if certDER, written, err = newCertFile(*name, max(*years, 1), *certFile, *certPassword); err != nil {
				return err
			}
		}
		var out app.CreatedSP
		req := admin.SPRequest{Name: *name, Years: *years, CertificateDER: certDER}
		err := withOps(cmd.Context(), app.DataDir(*dir), func(c *app.AdminClient) error {
			return c.Do(cmd.Context(), "POST", "/aksid/admin/sp", req, &out)
		}, func(o *app.Ops) (err error) {
			out, err = o.CreateSP(cmd.Context(), req.Name, req.Years, req.CertificateDER)
			return err
		})
		if err != nil {
			if written != "" {
				_ = os.Remove(written)
			}
			return err
		}
		out.CertFile = written
		return printJSON(cmd, out)
	}
	sp.AddCommand(create)
	return sp
}

func clockCmd() *cobra.Command {
	c := &cobra.Command{Use: "clock", Short: "Show or move aksid's clock (credential expiry, delays)"}
	run := func(cmd *cobra.Command, dir string, req *admin.ClockRequest) error {
		var out app.ClockState
		err := withOps(cmd.Context(), app.DataDir(dir), func(c *app.AdminClient) error {
			if req == nil {
				return c.Do(cmd.Context(), "GET", "/aksid/admin/clock", nil, &out)
			}
			return c.Do(cmd.Context(), "POST", "/aksid/admin/clock", req, &out)
		}, func(o *app.Ops) (err error) {
			out, err = offlineClock(cmd.Context(), o, req)
			return err
		})
		if err != nil {
			return err
		}
		return printJSON(cmd, out)
	}
	sub := func(use, short string, args cobra.PositionalArgs, req func([]string) (*admin.ClockRequest, error)) *cobra.Command {
		cmd := &cobra.Command{Use: use, Short: short, Args: args}
		dir := dataDirFlag(cmd)
		cmd.RunE = func(cmd *cobra.Command, a []string) error {
			r, err := req(a)
			if err != nil {
				return err
			}
			return run(cmd, *dir, r)
		}
		return cmd
	}
	c.AddCommand(
		sub("show", "Show aksid's time and its offset from wall time", cobra.NoArgs, func([]string) (*admin.ClockRequest, error) { return nil, nil }),
		sub("advance DURATION", "Move the clock forward, e.g. 366d, 90m, 1h30m", cobra.ExactArgs(1), func(a []string) (*admin.ClockRequest, error) {
			if _, err := clock.ParseDuration(a[0]); err != nil {
				return nil, err
			}
			return &admin.ClockRequest{Action: "advance", Duration: a[0]}, nil
		}),
		sub("set RFC3339", "Set the clock, e.g. 2027-12-01T00:00:00Z", cobra.ExactArgs(1), func(a []string) (*admin.ClockRequest, error) {
			if _, err := time.Parse(time.RFC3339, a[0]); err != nil {
				return nil, fmt.Errorf("time must be RFC 3339: %w", err)
			}
			return &admin.ClockRequest{Action: "set", Time: a[0]}, nil
		}),
		sub("reset", "Put the clock back on wall time", cobra.NoArgs, func([]string) (*admin.ClockRequest, error) {
			return &admin.ClockRequest{Action: "reset"}, nil
		}),
	)
	return c
}

func offlineClock(ctx context.Context, o *app.Ops, req *admin.ClockRequest) (app.ClockState, error) {
	if req == nil {
		return o.Clock(), nil
	}
	switch req.Action {
	case "advance":
		d, _ := clock.ParseDuration(req.Duration)
		return o.AdvanceClock(ctx, d)
	case "set":
		t, _ := time.Parse(time.RFC3339, req.Time)
		return o.SetClock(ctx, t)
	default:
		return o.ResetClock(ctx)
	}
}

func trustCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "Show the CA file and how to trust it", Args: cobra.NoArgs}
	dir := dataDirFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ca := app.DataDir(*dir).Path("ca.pem")
		if _, err := os.Stat(ca); err != nil {
			return fmt.Errorf("no CA at %s yet: run `aksid serve` first", ca)
		}
		fmt.Fprintf(cmd.OutOrStdout(), `%[1]s
# Go programs, curl and kubectl:
export %[2]s=%[1]s
# curl, where the system sets its own bundle variable:
export %[5]s=%[1]s
# az (Python requests ignores %[2]s):
export %[3]s=%[1]s
# Node.js:
export %[4]s=%[1]s
# or system-wide (Debian): cp %[1]s /usr/local/share/ca-certificates/aksid.crt && update-ca-certificates
`, ca, envvar.SSLCertFile, envvar.RequestsCABundle, envvar.NodeExtraCACerts, envvar.CurlCABundle)
		return nil
	}
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{Use: "version", Short: "Print aksid's version", Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "aksid", version) }}
}

// withOps runs online against a running server, else offline on the store.
func withOps(ctx context.Context, dd app.DataDir, online func(*app.AdminClient) error, offline func(*app.Ops) error) error {
	c, err := dd.Admin()
	if err != nil {
		return err
	}
	if c != nil {
		return online(c)
	}
	if info, ok := dd.RunningServer(); ok && info.InMemory {
		return fmt.Errorf("aksid runs in memory; it must be reachable for this command")
	}
	o, err := dd.OfflineOps(ctx)
	if err != nil {
		return err
	}
	defer o.Close()
	return offline(o.Ops)
}

func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// envOr is the environment variable name's value, or def when unset: a
// flag's default, so the flag still wins.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
