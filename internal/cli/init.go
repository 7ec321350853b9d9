package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/spf13/cobra"
)

// InitOptions are the flags of bgmigrate init.
type InitOptions struct {
	IO *IOStreams

	Dir   string
	Force bool
}

func newCmdInit(s *IOStreams) *cobra.Command {
	opts := &InitOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a starter .bgmigrate.yaml",
		Long: `Write a commented starter .bgmigrate.yaml in --dir, listing the directories
below it that hold .sql migrations and the tool their files are written for.
An existing configuration is kept unless --force is given.

Exit codes: 0 written, 2 usage or I/O errors (the file exists already).`,
		Example: `  bgmigrate init
  bgmigrate init --dir services/billing --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return initRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing configuration file")
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "directory to write the file in and to search for migrations")
	return cmd
}

func initRun(opts *InitOptions) error {
	info, err := os.Stat(opts.Dir)
	if err != nil {
		return usageError("--dir: %v", err)
	}
	if !info.IsDir() {
		return usageError("--dir: %s is not a directory", opts.Dir)
	}
	target := filepath.Join(opts.Dir, config.FileName)
	for _, name := range []string{config.FileName, config.AltFileName} {
		p := filepath.Join(opts.Dir, name)
		_, err := os.Stat(p)
		switch {
		case err == nil && !opts.Force:
			return usageError("%s already exists; pass --force to overwrite it", p)
		case err == nil:
			// Overwrite the file that is there rather than add a second one.
			target = p
		case !errors.Is(err, fs.ErrNotExist):
			return usage(err)
		}
	}
	migs, runner, err := config.Detect(opts.Dir)
	if err != nil {
		return usage(fmt.Errorf("search for migrations: %w", err))
	}
	content := config.TemplateFor(runner, migs)
	if _, err := config.Parse(target, []byte(content)); err != nil {
		return fmt.Errorf("internal error: the starter configuration does not load: %w", err)
	}
	if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
		return usage(fmt.Errorf("write config: %w", err))
	}
	var dirs []string
	for _, m := range migs {
		dirs = append(dirs, m.Dir)
	}
	switch {
	case len(dirs) == 0:
		fmt.Fprintf(opts.IO.Out, "wrote %s; no migrations found: add their directories under migrations:\n", target)
	case runner != "":
		fmt.Fprintf(opts.IO.Out, "wrote %s with migrations in %s (runner: %s)\n", target, strings.Join(dirs, ", "), runner)
	default:
		fmt.Fprintf(opts.IO.Out, "wrote %s with migrations in %s\n", target, strings.Join(dirs, ", "))
	}
	return nil
}
