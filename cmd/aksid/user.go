package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/spf13/cobra"
)

// adminCmd builds a command that sends one admin request to the running
// server (or acts on the store when none runs) and prints the answer.
func adminCmd[T any](use, short string, args cobra.PositionalArgs, method, path string,
	body func(cmd *cobra.Command, a []string) (any, error), offline func(ctx context.Context, o *app.Ops, in any) (T, error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args}
	dir := dataDirFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		var in any
		if body != nil {
			var err error
			if in, err = body(cmd, a); err != nil {
				return err
			}
		}
		var out T
		err := withOps(cmd.Context(), app.DataDir(*dir), func(c *app.AdminClient) error {
			return c.Do(cmd.Context(), method, path, in, &out)
		}, func(o *app.Ops) (err error) {
			out, err = offline(cmd.Context(), o, in)
			return err
		})
		if err != nil {
			return err
		}
		return printJSON(cmd, out)
	}
	return cmd
}

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

	create := adminCmd("create", "Create a user; the password (generated unless given) and MFA verification code are printed once", cobra.NoArgs,
		"POST", "/aksid/admin/users", func(cmd *cobra.Command, _ []string) (any, error) {
			f := cmd.Flags()
			name, _ := f.GetString("name")
			display, _ := f.GetString("display-name")
			pw, _ := f.GetString("password")
			mfa, _ := f.GetBool("require-mfa")
			return admin.UserRequest{UPN: name, DisplayName: display, Password: pw, RequireMFA: mfa}, nil
		}, func(ctx context.Context, o *app.Ops, in any) (admin.CreatedUser, error) {
			return o.CreateUser(ctx, in.(admin.UserRequest))
		})
	create.Flags().String("name", "", "user principal name, e.g. ada@aksid.local (required)")
	create.Flags().String("display-name", "", "display name (default: the UPN's local part)")
	create.Flags().String("password", "", "password (default: a generated one, printed once)")
	create.Flags().Bool("require-mfa", false, "require a second factor: a verification code, printed once")
	_ = create.MarkFlagRequired("name")

	list := adminCmd("list", "List users with their sign-in state (enabled, locked, MFA)", cobra.NoArgs, "GET", "/aksid/admin/users", nil,
		func(ctx context.Context, o *app.Ops, _ any) ([]admin.UserView, error) { return o.Users(ctx) })

	change := func(use, short, action string) *cobra.Command {
		return adminCmd(use+" UPN", short, cobra.ExactArgs(1), "POST", "/aksid/admin/users/change",
			func(_ *cobra.Command, a []string) (any, error) {
				return admin.UserChange{UPN: a[0], Action: action}, nil
			},
			func(ctx context.Context, o *app.Ops, in any) (admin.UserChanged, error) {
				return o.ChangeUser(ctx, in.(admin.UserChange))
			})
	}
	set := adminCmd("set UPN", "Change a user: --require-mfa=true|false (turning it on prints a new verification code)", cobra.ExactArgs(1),
		"POST", "/aksid/admin/users/change", func(cmd *cobra.Command, a []string) (any, error) {
			if !cmd.Flags().Changed("require-mfa") {
				return nil, fmt.Errorf("nothing to set: give --require-mfa=true or --require-mfa=false")
			}
			mfa, _ := cmd.Flags().GetBool("require-mfa")
			return admin.UserChange{UPN: a[0], Action: "mfa", RequireMFA: mfa}, nil
		}, func(ctx context.Context, o *app.Ops, in any) (admin.UserChanged, error) {
			return o.ChangeUser(ctx, in.(admin.UserChange))
		})
	set.Flags().Bool("require-mfa", false, "require a second factor")

	del := adminCmd("delete UPN", "Delete a user", cobra.ExactArgs(1), "POST", "/aksid/admin/users/delete",
		func(_ *cobra.Command, a []string) (any, error) { return admin.NameRequest{Name: a[0]}, nil },
		func(ctx context.Context, o *app.Ops, in any) (map[string]bool, error) {
			return map[string]bool{"deleted": true}, o.DeleteUser(ctx, in.(admin.NameRequest).Name)
		})

	user.AddCommand(show, create, list, set, del,
		change("disable", "Disable a user's sign-in (AADSTS50057)", "disable"),
		change("enable", "Enable a user's sign-in", "enable"),
		change("unlock", "End a user's lockout after failed sign-ins (AADSTS50053)", "unlock"))
	return user
}

func groupCmd() *cobra.Command {
	group := &cobra.Command{Use: "group", Short: "Security groups of the directory"}
	create := adminCmd("create NAME", "Create a security group", cobra.ExactArgs(1), "POST", "/aksid/admin/groups",
		func(_ *cobra.Command, a []string) (any, error) { return admin.NameRequest{Name: a[0]}, nil },
		func(ctx context.Context, o *app.Ops, in any) (admin.GroupView, error) {
			return o.CreateGroup(ctx, in.(admin.NameRequest).Name)
		})
	add := adminCmd("add-member GROUP MEMBER", "Add a user (UPN), service principal (appId) or group (name) to a group", cobra.ExactArgs(2),
		"POST", "/aksid/admin/groups/members", func(_ *cobra.Command, a []string) (any, error) {
			return admin.MemberRequest{Group: a[0], Member: a[1]}, nil
		}, func(ctx context.Context, o *app.Ops, in any) (admin.GroupView, error) {
			r := in.(admin.MemberRequest)
			return o.AddMember(ctx, r.Group, r.Member)
		})
	list := adminCmd("list", "List groups with their direct members", cobra.NoArgs, "GET", "/aksid/admin/groups", nil,
		func(ctx context.Context, o *app.Ops, _ any) ([]admin.GroupView, error) { return o.Groups(ctx) })
	group.AddCommand(create, add, list)
	return group
}

func policyCmd() *cobra.Command {
	policy := &cobra.Command{Use: "policy", Short: "Conditional-access policies of the directory"}
	block := adminCmd("block-device-code", "Block the device-code flow for listed users (--users) or everyone (--all): AADSTS53003", cobra.NoArgs,
		"POST", "/aksid/admin/policies", func(cmd *cobra.Command, _ []string) (any, error) {
			users, _ := cmd.Flags().GetString("users")
			all, _ := cmd.Flags().GetBool("all")
			var list []string
			for _, u := range strings.Split(users, ",") {
				if u = strings.TrimSpace(u); u != "" {
					list = append(list, u)
				}
			}
			if all == (len(list) > 0) {
				return nil, fmt.Errorf("give either --users UPN,... or --all")
			}
			return admin.PolicyRequest{Control: "blockDeviceCodeFlow", AllUsers: all, Users: list}, nil
		}, func(ctx context.Context, o *app.Ops, in any) (admin.PolicyView, error) {
			return o.CreatePolicy(ctx, in.(admin.PolicyRequest))
		})
	block.Flags().String("users", "", "comma-separated user principal names")
	block.Flags().Bool("all", false, "every user of the tenant")
	list := adminCmd("list", "List the conditional-access policies", cobra.NoArgs, "GET", "/aksid/admin/policies", nil,
		func(ctx context.Context, o *app.Ops, _ any) ([]admin.PolicyView, error) { return o.Policies(ctx) })
	del := adminCmd("delete ID", "Delete a conditional-access policy", cobra.ExactArgs(1), "POST", "/aksid/admin/policies/delete",
		func(_ *cobra.Command, a []string) (any, error) { return admin.NameRequest{Name: a[0]}, nil },
		func(ctx context.Context, o *app.Ops, in any) (map[string]bool, error) {
			return map[string]bool{"deleted": true}, o.DeletePolicy(ctx, in.(admin.NameRequest).Name)
		})
	policy.AddCommand(block, list, del)
	return policy
}
