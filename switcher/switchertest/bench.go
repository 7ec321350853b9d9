package switchertest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// Bench switches in blue→green→blue… switches times under steady load
// from clients goroutines through in.Frontend and reports, per run:
// failed requests (transport errors), non-2xx answers, answers from the
// old color to requests sent after Switch returned (stale), and the p50
// and p99 of the switch call, of the time to the first answer from the new
// color and of the time to the last answer from the old one.
func Bench(b *testing.B, in Instance, switches, clients int) {
	b.Helper()
	var all LoadResult
	for i := 0; i < b.N; i++ {
		load := StartLoad(in.Frontend, clients)
		time.Sleep(200 * time.Millisecond) // steady state before the first switch
		to := switcher.Green
		for s := 0; s < switches; s++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := load.Switch(ctx, in.Switcher, to); err != nil {
				cancel()
				b.Fatalf("switch %d to %s: %v", s+1, to, err)
			}
			cancel()
			time.Sleep(250 * time.Millisecond) // let both colors' answers land
			to = to.Other()
		}
		r := load.Stop()
		all.Requests += r.Requests
		all.TransportErrors += r.TransportErrors
		all.Non2xx += r.Non2xx
		all.Other += r.Other
		all.Switches = append(all.Switches, r.Switches...)
		// Leave the instance on blue for the next iteration.
		if act, err := in.Switcher.Active(context.Background()); err == nil && act != switcher.Blue {
			_ = in.Switcher.Switch(context.Background(), switcher.Blue)
		}
	}
	var took, first, last []time.Duration
	stale := 0
	for _, s := range all.Switches {
		took = append(took, s.Took)
		if s.FirstNew >= 0 {
			first = append(first, s.FirstNew)
		}
		if s.LastOld >= 0 {
			last = append(last, s.LastOld)
		}
		stale += s.Stale
	}
	b.ReportMetric(float64(all.Requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(all.TransportErrors), "failed")
	b.ReportMetric(float64(all.Non2xx), "non2xx")
	b.ReportMetric(float64(stale), "stale")
	b.ReportMetric(ms(percentile(took, 50)), "switch-p50-ms")
	b.ReportMetric(ms(percentile(took, 99)), "switch-p99-ms")
	b.ReportMetric(ms(percentile(first, 50)), "first-new-p50-ms")
	b.ReportMetric(ms(percentile(first, 99)), "first-new-p99-ms")
	b.ReportMetric(ms(percentile(last, 50)), "last-old-p50-ms")
	b.ReportMetric(ms(percentile(last, 99)), "last-old-p99-ms")
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
