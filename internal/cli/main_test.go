package cli

import (
	"os"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

// mainEnv makes the test binary run the command line instead of the tests:
// fault tests start bgmigrate as a real process this way, and kill it.
const mainEnv = "BGMIGRATE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(pgtest.Run(m))
}
