package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

// mainEnv makes the test binary run the command line instead of the tests:
// fault tests start bgmigrate as a real process this way, and kill it.
const mainEnv = "BGMIGRATE_TEST_RUN_MAIN"

// failpointEnv names the failpoint (deploy.Failpoints) at which such a
// process stops dead, until it is killed.
const failpointEnv = "BGMIGRATE_TEST_FAILPOINT"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		if fp := os.Getenv(failpointEnv); fp != "" {
			deployerWiring = func(d *deploy.Deployer, s *IOStreams) {
				d.Failpoint = func(name string) {
					if name == fp {
						fmt.Fprintf(s.ErrOut, "bgmigrate: failpoint %s: waiting to be killed\n", name)
						select {}
					}
				}
			}
		}
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(pgtest.Run(m))
}
