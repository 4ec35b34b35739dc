// Command aksid runs a local, offline Entra ID and Azure identity plane for AKS.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "aksid:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "aksid",
		Short:         "A local, offline Entra ID, Graph, ARM and AKS identity plane",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), envCmd(), runCmd(), spCmd(), userCmd(), groupCmd(), policyCmd(), clockCmd(), clusterCmd(), hostCmd(), kubeconfigCmd(), trustCmd(), azCloudCmd(), backupCmd(), restoreCmd(), versionCmd())
	return root
}
