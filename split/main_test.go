package split_test

import (
	"os"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
