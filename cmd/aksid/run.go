package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"

	"github.com/aksid/aksid/internal/app"
	"github.com/spf13/cobra"
)

// runCmd runs one command with `aksid env`'s environment (handy in CI).
func runCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "run [--direct] -- COMMAND [ARGS…]", Short: "Run a command with aksid's environment (proxy mode by default)",
		Args: cobra.MinimumNArgs(1)}
	dir := dataDirFlag(cmd)
	direct := cmd.Flags().Bool("direct", false, "custom-cloud mode instead of proxy mode")
	asAdmin := cmd.Flags().Bool("as-admin", false, "also give the admin principal as AZURE_CLIENT_ID/AZURE_CLIENT_SECRET")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		lines, err := envLines(app.DataDir(*dir), *direct, app.EnvOptions{AsAdmin: *asAdmin})
		if err != nil {
			return err
		}
		env := os.Environ()
		sc := bufio.NewScanner(strings.NewReader(lines))
		for sc.Scan() {
			kv, ok := strings.CutPrefix(sc.Text(), "export ")
			if !ok {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			env = append(env, k+"="+unquote(v))
		}
		c := exec.Command(args[0], args[1:]...)
		c.Env, c.Stdin, c.Stdout, c.Stderr = env, os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
		err = c.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		return err
	}
	return cmd
}

// unquote undoes shellQuote's single quoting.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], `'\''`, `'`)
	}
	return v
}
