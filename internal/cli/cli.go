// Package cli holds bgmigrate's commands. Commands are thin: they read
// flags, call the packages that do the work and print; exit codes are
// mapped once, here.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK       = 0 // nothing at the fail level
	ExitFindings = 1 // findings at the fail level (syntax errors included)
	ExitUsage    = 2 // usage, configuration or I/O error
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Env reads an environment variable (os.Getenv in production).
	Env func(string) string
}

// ColorEnabled reports whether Out is a terminal and NO_COLOR is unset.
func (s *IOStreams) ColorEnabled() bool {
	if s.Env("NO_COLOR") != "" || s.Env("TERM") == "dumb" {
		return false
	}
	f, ok := s.Out.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// The errors a command returns say what went wrong, not how to exit:
// exitCode maps them to exit codes, here and nowhere else.
//
// usageErr: the command could not do what was asked: a flag, the
// configuration, a file, or a database or load balancer it could not
// reach or read (exit 2).
type usageErr struct{ err error }

// refusal: the command ran and says no: findings at the fail level, a
// refused, blocked or failed migration, deploy, step or check, a rollback
// (exit 1). A nil err says it all was printed already.
type refusal struct{ err error }

func (e *usageErr) Error() string { return e.err.Error() }
func (e *usageErr) Unwrap() error { return e.err }

func (e *refusal) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *refusal) Unwrap() error { return e.err }

// usage marks err as a usage, configuration or I/O error.
func usage(err error) error { return &usageErr{err} }

// usageError is usage with a message.
func usageError(format string, args ...any) error {
	return usage(fmt.Errorf(format, args...))
}

// refused marks err as the command's no.
func refused(err error) error { return &refusal{err} }

// errFindings ends a run with ExitFindings without printing anything more.
var errFindings = refused(nil)

// exitCode maps the error a command returned to the process exit code, in
// one place. An error that is neither kind comes from cobra (an unknown
// command or flag) or from a package that could not start: a usage error.
func exitCode(err error) int {
	var r *refusal
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &r):
		return ExitFindings
	}
	return ExitUsage
}

// typed reports whether err already says which kind it is.
func typed(err error) bool {
	var u *usageErr
	var r *refusal
	return errors.As(err, &u) || errors.As(err, &r)
}

// Main runs the command line and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(args, stdin, stdout, stderr, os.Getenv)
}

// execute is Main with the environment read through getenv.
func execute(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	streams := &IOStreams{In: stdin, Out: stdout, ErrOut: stderr, Env: getenv}
	root := NewRootCmd(streams)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Ctrl-C and SIGTERM cancel the command's context: hooks, probes and
	// statements stop, and what was recorded stays consistent.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "bgmigrate: %v\n", err)
	}
	return exitCode(err)
}

// NewRootCmd builds the command tree.
func NewRootCmd(s *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "bgmigrate",
		Short: "Safe PostgreSQL migrations for blue-green deploys",
		Long: `bgmigrate makes PostgreSQL migrations safe for blue-green deploys.

It lints migrations for locks, rewrites and blue-green compatibility,
classifying every statement and file as expand (run before the switch),
contract (run after the old color is retired) or breaking (split it); applies
them phase by phase with lock timeouts, retries and contract gating; and gates
the switch on a live schema that works for both colors.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%w\nRun '%s --help' for usage", err, c.CommandPath())
	})
	root.AddCommand(newCmdLint(s, nil), newCmdRules(s), newCmdExplain(s),
		newCmdMigrate(s), newCmdPlan(s), newCmdInit(s), newCmdStatus(s), newCmdRetire(s), newCmdBaseline(s), newCmdGate(s), newCmdGitHubEventBase(s),
		newCmdDeploy(s), newCmdRollback(s), newCmdSwitch(s), newCmdContract(s), newCmdSplit(s), newCmdTrace(s), newCmdVersion(s))
	return root
}
