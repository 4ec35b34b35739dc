package main

import (
	"fmt"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/cloudprovider"
	"github.com/spf13/cobra"
)

func clusterCmd() *cobra.Command {
	c := &cobra.Command{Use: "cluster", Short: "Inspect managed clusters as their control plane sees them"}

	check := &cobra.Command{Use: "check <resource-group>/<name>", Short: "Act as the cluster's identity and report what RBAC lets it do", Args: cobra.ExactArgs(1),
		Long: `Signs in as the cluster's service principal or managed identity and, as it, ensures a public IP and a
load balancer in the node resource group, updates the cluster's subnet (when it has one), attaches each
--disk and pulls from each --registry. Prints PASS or FAIL with Azure's error per check; exits 1 if any fails.`}
	disks := check.Flags().StringArray("disk", nil, "managed disk resource ID the cluster should attach (repeatable)")
	registries := check.Flags().StringArray("registry", nil, "container registry resource ID the cluster should pull from (repeatable)")
	checkDir := dataDirFlag(check)
	check.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := app.ClusterID(args[0])
		if err != nil {
			return err
		}
		client, err := runningAdmin(*checkDir)
		if err != nil {
			return err
		}
		var out []cloudprovider.Check
		req := cloudprovider.Request{ClusterID: id, Disks: *disks, Registries: *registries}
		if err := client.Do(cmd.Context(), "POST", "/aksid/admin/cluster/check", req, &out); err != nil {
			return err
		}
		failed := 0
		for _, c := range out {
			if c.OK {
				fmt.Fprintf(cmd.OutOrStdout(), "PASS %s\n", c.Name)
				continue
			}
			failed++
			fmt.Fprintf(cmd.OutOrStdout(), "FAIL %s: %s\n", c.Name, c.Detail)
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d checks failed", failed, len(out))
		}
		return nil
	}

	azureJSON := &cobra.Command{Use: "azure-json <resource-group>/<name>", Short: "Print the cluster's /etc/kubernetes/azure.json (with its secret)", Args: cobra.ExactArgs(1)}
	jsonDir := dataDirFlag(azureJSON)
	azureJSON.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := app.ClusterID(args[0])
		if err != nil {
			return err
		}
		client, err := runningAdmin(*jsonDir)
		if err != nil {
			return err
		}
		var out map[string]any
		if err := client.Do(cmd.Context(), "POST", "/aksid/admin/cluster/azure-json", admin.ClusterRequest{ClusterID: id}, &out); err != nil {
			return err
		}
		return printJSON(cmd, out)
	}
	saToken := &cobra.Command{Use: "sa-token <resource-group>/<name>", Short: "Mint a service-account token signed by the cluster's OIDC issuer", Args: cobra.ExactArgs(1),
		Long: `Prints the token the kubelet would project into a pod running as --service-account in --namespace
(sub system:serviceaccount:<namespace>:<name>, iss the cluster's issuer URL), for workload identity:
write it to the file AZURE_FEDERATED_TOKEN_FILE names. The cluster needs --enable-oidc-issuer.`}
	ns := saToken.Flags().String("namespace", "default", "the pod's namespace")
	sa := saToken.Flags().String("service-account", "", "the service account's name (required)")
	auds := saToken.Flags().StringArray("audience", nil, "the token's audience (repeatable; default api://AzureADTokenExchange)")
	dur := saToken.Flags().String("duration", "1h", "lifetime, 10m to 48h")
	saDir := dataDirFlag(saToken)
	_ = saToken.MarkFlagRequired("service-account")
	saToken.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := app.ClusterID(args[0])
		if err != nil {
			return err
		}
		client, err := runningAdmin(*saDir)
		if err != nil {
			return err
		}
		var out admin.SAToken
		req := admin.SATokenRequest{ClusterID: id, Namespace: *ns, ServiceAccount: *sa, Audiences: *auds, Duration: *dur}
		if err := client.Do(cmd.Context(), "POST", "/aksid/admin/cluster/sa-token", req, &out); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), out.Token)
		return nil
	}
	c.AddCommand(check, azureJSON, saToken)
	return c
}

// runningAdmin reaches the server running on dir; cluster commands act
// through its faces, so there is no offline fallback.
func runningAdmin(dir string) (*app.AdminClient, error) {
	client, err := app.DataDir(dir).Admin()
	if err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("no aksid is running on %s: start `aksid serve` first", dir)
	}
	return client, nil
}
