package main

import (
	"fmt"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/app"
	"github.com/spf13/cobra"
)

// hostCmd manages the emulated hosts whose identities the managed-identity
// endpoint serves.
func hostCmd() *cobra.Command {
	c := &cobra.Command{Use: "host", Short: "Emulated hosts (VMs, cluster nodes) and the managed identities assigned to them"}

	create := &cobra.Command{Use: "create NAME", Short: "Make an emulated VM with a system-assigned and/or user-assigned identities", Args: cobra.ExactArgs(1)}
	system := create.Flags().Bool("system-assigned", false, "give the VM a system-assigned identity")
	identities := create.Flags().StringArray("identity", nil, "resource ID of a user-assigned identity to assign (repeatable)")
	createDir := dataDirFlag(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		client, err := runningAdmin(*createDir)
		if err != nil {
			return err
		}
		var out admin.HostView
		req := admin.HostRequest{Name: args[0], SystemAssigned: *system, Identities: *identities}
		if err := client.Do(cmd.Context(), "POST", "/aksid/admin/hosts", req, &out); err != nil {
			return err
		}
		return printJSON(cmd, out)
	}

	list := &cobra.Command{Use: "list", Short: "List the hosts and the identities each may act as", Args: cobra.NoArgs}
	listDir := dataDirFlag(list)
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		client, err := runningAdmin(*listDir)
		if err != nil {
			return err
		}
		var out []admin.HostView
		if err := client.Do(cmd.Context(), "GET", "/aksid/admin/hosts", nil, &out); err != nil {
			return err
		}
		return printJSON(cmd, out)
	}

	env := &cobra.Command{Use: "env NAME | <resource-group>/<cluster>", Short: "Print the lines that make a shell speak for the host (after `aksid env`)",
		Long: `Prints HTTP_PROXY with the host's name and secret, so managed-identity clients reach IMDS
(http://169.254.169.254) through aksid's plain-HTTP proxy as that host. With --app-service, prints
IDENTITY_ENDPOINT and IDENTITY_HEADER (App Service's form) instead. <resource-group>/<cluster>
names a node of that cluster: the kubelet and add-on identities.`, Args: cobra.ExactArgs(1)}
	appService := env.Flags().Bool("app-service", false, "the App Service form: IDENTITY_ENDPOINT and IDENTITY_HEADER")
	envDir := dataDirFlag(env)
	env.RunE = func(cmd *cobra.Command, args []string) error {
		client, err := runningAdmin(*envDir)
		if err != nil {
			return err
		}
		var out admin.HostEnv
		if err := client.Do(cmd.Context(), "POST", "/aksid/admin/hosts/env", admin.HostName{Name: args[0]}, &out); err != nil {
			return err
		}
		if out.HTTPProxy == "" && !*appService {
			return fmt.Errorf("aksid runs without its plain-HTTP proxy port (--http-proxy-addr off): use --app-service")
		}
		lines := app.IMDSEnvLines(out)
		if *appService {
			lines = app.AppServiceEnvLines(out)
		}
		fmt.Fprint(cmd.OutOrStdout(), lines)
		return nil
	}

	del := &cobra.Command{Use: "delete NAME", Short: "Delete a host and its system-assigned identity", Args: cobra.ExactArgs(1)}
	delDir := dataDirFlag(del)
	del.RunE = func(cmd *cobra.Command, args []string) error {
		client, err := runningAdmin(*delDir)
		if err != nil {
			return err
		}
		var out map[string]bool
		return client.Do(cmd.Context(), "POST", "/aksid/admin/hosts/delete", admin.HostName{Name: args[0]}, &out)
	}
	c.AddCommand(create, list, env, del)
	return c
}
