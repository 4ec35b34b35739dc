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
		Short: "Point every kubelogin user at aksid's own URL (--authority-host, --disable-instance-discovery); run it after `kubelogin convert-kubeconfig`, which drops them"}
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
		rw, err := kubecfg.AddAuthority(in, strings.TrimSuffix(info.URL, "/")+"/")
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
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d kubelogin user(s) now sign in at %s/\n", path, rw.Users, strings.TrimSuffix(info.URL, "/"))
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
