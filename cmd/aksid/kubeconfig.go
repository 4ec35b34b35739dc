package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/envvar"
	"github.com/aksid/aksid/internal/kubecfg"
)

func kubeconfigCmd() *cobra.Command {
	kc := &cobra.Command{Use: "kubeconfig", Short: "Adapt kubeconfigs to aksid"}
	direct := &cobra.Command{Use: "direct", Args: cobra.NoArgs,
		Short: "Point every kubelogin user at aksid's own URL (--authority-host, --disable-instance-discovery) and every AKS cluster's server at it (server: aksid's URL, tls-server-name: the cluster's FQDN); run it after `kubelogin convert-kubeconfig`, which drops the former"}
	file := direct.Flags().String("kubeconfig", "", "the file to rewrite (default: $KUBECONFIG's first file, else ~/.kube/config)")
	dir := dataDirFlag(direct)
	direct.RunE = func(cmd *cobra.Command, _ []string) error {
		info, ok := app.DataDir(*dir).RunningServer()
		if !ok {
			return errors.New("no aksid is running on this data directory: start `aksid serve` first")
		}
		path := *file
		if path == "" {
			path = defaultKubeconfig()
		}
		in, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(info.URL, "/")
		users, err := kubecfg.AddAuthority(in, base+"/")
		if err != nil {
			return err
		}
		rw, err := kubecfg.PointServers(users.Config, base)
		if err != nil {
			return err
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		tmp := path + ".aksid-tmp"
		if err := os.WriteFile(tmp, rw.Config, st.Mode().Perm()); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d kubelogin user(s) now sign in at %s/, %d AKS cluster(s) reach their API server through %s\n",
			path, users.Users, base, rw.Clusters, base)
		return nil
	}
	kc.AddCommand(direct)
	return kc
}

func defaultKubeconfig() string {
	if env := os.Getenv(envvar.Kubeconfig); env != "" {
		return filepath.SplitList(env)[0]
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".kube", "config")
}
