package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/backup"
	"github.com/aksid/aksid/internal/envvar"
	"github.com/spf13/cobra"
)

func backupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Short: "Write the whole installation (master key, CA, every document of the store) to one archive, also while aksid serves", Args: cobra.NoArgs}
	dir := dataDirFlag(cmd)
	out := cmd.Flags().String("out", "", "the archive to write (required), mode 0600: it holds the master key")
	force := cmd.Flags().Bool("force", false, "replace the archive file if it exists")
	_ = cmd.MarkFlagRequired("out")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		src, err := app.DataDir(*dir).BackupSource(cmd.Context())
		if err != nil {
			return err
		}
		defer src.Store.Close()
		sum, err := backup.WriteFile(cmd.Context(), *out, src, backup.Options{Force: *force})
		if errors.Is(err, backup.ErrExists) {
			return fmt.Errorf("%s exists: choose another --out, or give --force to replace it", *out)
		}
		if err != nil {
			return err
		}
		abs, _ := filepath.Abs(*out)
		fmt.Fprintf(cmd.ErrOrStderr(), "aksid backup: %s contains the master key: whoever can read it can sign tokens as this aksid and open the secrets it seals. Keep it as private as the data directory.\n", abs)
		return printJSON(cmd, struct {
			File string `json:"file"`
			backup.Summary
		}{abs, sum})
	}
	return cmd
}

func restoreCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "restore", Short: "Restore an archive written by `aksid backup` into a data directory and its store", Args: cobra.NoArgs}
	dir := dataDirFlag(cmd)
	in := cmd.Flags().String("in", "", "the archive to read (required)")
	storeURL := cmd.Flags().String("store", os.Getenv(envvar.Store), "PostgreSQL URL (postgres://user@host:port/db) to restore the documents into; empty: SQLite in the data directory (env "+envvar.Store+"). Any backup restores into either")
	force := cmd.Flags().Bool("force", false, "replace the master key, CA and every document the data directory and store already hold")
	_ = cmd.MarkFlagRequired("in")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		dd := app.DataDir(*dir)
		// A damaged archive is refused before the target is even opened
		// (Restore checks it again, next to writing).
		if _, err := backup.VerifyFile(*in, app.BackupFiles()); err != nil {
			return restoreErr(*in, err)
		}
		dst, err := dd.RestoreTarget(cmd.Context(), *storeURL)
		if err != nil {
			return err
		}
		defer dst.Store.Close()
		sum, err := backup.RestoreFile(cmd.Context(), *in, dst, backup.Options{Force: *force})
		if err != nil {
			return restoreErr(*in, err)
		}
		if err := dd.RecordStore(*storeURL); err != nil {
			return err
		}
		serve := "aksid serve --data-dir " + string(dd)
		if *storeURL != "" {
			serve += " --store '<the same URL>'"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "aksid restore: done; start it with `%s`\n", serve)
		return printJSON(cmd, struct {
			DataDir string `json:"dataDir"`
			Into    string `json:"into"`
			backup.Summary
		}{string(dd), dd.StoreDescription(*storeURL), sum})
	}
	return cmd
}

// restoreErr says what to do about a refused restore.
func restoreErr(in string, err error) error {
	switch {
	case errors.Is(err, backup.ErrNotEmpty):
		return fmt.Errorf("%w; restore into a new data directory and an empty store, or give --force to replace what is there", err)
	case errors.Is(err, backup.ErrCorrupt):
		return fmt.Errorf("%s: %w; nothing was restored", in, err)
	}
	return err
}
