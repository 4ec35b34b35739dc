package main

import (
	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/spf13/cobra"
)

// userCmd groups user administration; show-admin prints the bootstrap
// admin user's sign-in, derived from the data directory's master key.
func userCmd() *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Users of the directory"}
	show := &cobra.Command{Use: "show-admin", Short: "Print the bootstrap admin user's name and password as JSON", Args: cobra.NoArgs}
	dir := dataDirFlag(show)
	show.RunE = func(cmd *cobra.Command, _ []string) error {
		kr, err := app.DataDir(*dir).ExistingKeyring()
		if err != nil {
			return err
		}
		c := bootstrap.CredentialsFor(kr)
		return printJSON(cmd, map[string]string{"upn": c.AdminUPN, "password": c.AdminPassword, "tenant": c.TenantID})
	}
	user.AddCommand(show)
	return user
}
