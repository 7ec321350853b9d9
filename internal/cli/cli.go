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

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// findingsError ends a run with ExitFindings without printing anything more.
var errFindings = &exitError{code: ExitFindings}

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
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "bgmigrate: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "bgmigrate: %v\n", err)
	return ExitUsage
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
		return &exitError{code: ExitUsage, err: fmt.Errorf("%w\nRun '%s --help' for usage", err, c.CommandPath())}
	})
	root.AddCommand(newCmdLint(s, nil), newCmdRules(s), newCmdExplain(s),
		newCmdMigrate(s), newCmdPlan(s), newCmdInit(s), newCmdStatus(s), newCmdRetire(s), newCmdBaseline(s), newCmdGate(s), newCmdGitHubEventBase(s),
		newCmdDeploy(s), newCmdRollback(s), newCmdSwitch(s), newCmdContract(s), newCmdSplit(s), newCmdTrace(s))
	return root
}

// exitCode maps the error of a command's action to its exit code, in one
// place: an exitError carries its own; everything else a command's action
// returns is a refusal, a block, a failed check or step, or a rollback.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return ExitFindings
}

func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}
