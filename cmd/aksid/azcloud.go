package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/envvar"
	"github.com/spf13/cobra"
)

// azCloudCmd registers this aksid as an az cloud and selects it.
func azCloudCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "az-cloud", Short: "Register and select an az cloud for this aksid (custom-cloud mode)", Args: cobra.NoArgs}
	dir := dataDirFlag(cmd)
	printOnly := cmd.Flags().Bool("print", false, "print the cloud JSON instead of registering it")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		dd := app.DataDir(*dir)
		cfg, err := dd.AzCloudConfig()
		if err != nil {
			return err
		}
		if *printOnly {
			fmt.Fprintln(cmd.OutOrStdout(), string(cfg))
			return nil
		}
		azDir := os.Getenv(envvar.AzureConfigDir)
		if azDir == "" {
			if azDir, err = dd.AzConfigDir(); err != nil {
				return err
			}
		}
		file := filepath.Join(azDir, "aksid-cloud.json")
		if err := os.WriteFile(file, cfg, 0o600); err != nil {
			return err
		}
		env := append(os.Environ(), envvar.AzureConfigDir+"="+azDir, envvar.AzureCoreCollectTelemetry+"=false")
		// register fails when the cloud exists; update then merges.
		if out, err := runAz(env, "cloud", "register", "-n", app.AzCloudName, "--cloud-config", "@"+file); err != nil {
			if !strings.Contains(out, "already registered") {
				return fmt.Errorf("az cloud register: %v: %s", err, out)
			}
			if out, err := runAz(env, "cloud", "update", "-n", app.AzCloudName, "--cloud-config", "@"+file); err != nil {
				return fmt.Errorf("az cloud update: %v: %s", err, out)
			}
		}
		if out, err := runAz(env, "cloud", "set", "-n", app.AzCloudName); err != nil {
			return fmt.Errorf("az cloud set: %v: %s", err, out)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "az cloud %q registered and selected in %s\n", app.AzCloudName, azDir)
		return nil
	}
	return cmd
}

func runAz(env []string, args ...string) (string, error) {
	c := exec.Command("az", args...)
	c.Env = env
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}
