package rules

import (
	"testing"
	"time"
)

func TestSizeLabels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{rowsLabel(-1), "rows unknown (never analyzed)"},
		{rowsLabel(0), "no rows"},
		{rowsLabel(1), "about 1 row"},
		{rowsLabel(999), "about 999 rows"},
		{rowsLabel(1000), "about 1k rows"},
		{rowsLabel(12_345), "about 12k rows"},
		{rowsLabel(999_960), "about 1M rows"},
		{rowsLabel(1_234_567), "about 1.2M rows"},
		{rowsLabel(3.4e9), "about 3.4B rows"},
		{bytesLabel(0), "0 bytes"},
		{bytesLabel(1023), "1023 bytes"},
		{bytesLabel(8192), "8 kB"},
		{bytesLabel(10 << 10), "10 kB"},
		{bytesLabel(1<<20 - 1), "1 MB"},
		{bytesLabel(340 << 20), "340 MB"},
		{bytesLabel(5 << 40), "5 TB"},
		{durationLabel(300 * time.Microsecond), "under 1 ms"},
		{durationLabel(42 * time.Millisecond), "about 42 ms"},
		{durationLabel(4200 * time.Millisecond), "about 4.2 s"},
		{durationLabel(90 * time.Second), "about 1.5 min"},
		{durationLabel(2 * time.Hour), "about 2 h"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
