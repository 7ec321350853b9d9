package haproxy

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/switcher"
)

var (
	_ switcher.InFlightReader = (*MapSwitcher)(nil)
	_ switcher.InFlightReader = (*ServerSwitcher)(nil)
)

// InFlight returns the requests the backend of color holds (map mode):
// the current sessions of "show stat", the backend's own line, which
// counts the requests its servers serve and the ones waiting in its
// queues. An idle keep-alive connection holds no session: HAProxy makes
// one per request.
func (s *MapSwitcher) InFlight(ctx context.Context, color switcher.Color) (int, bool, error) {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return 0, false, err
	}
	backend := s.cfg.name(color)
	rows, err := s.cfg.api.showStat(ctx, backend)
	if err != nil {
		return 0, false, s.err(ctx, "in-flight", err)
	}
	for _, r := range rows {
		if r.svname == "BACKEND" {
			return r.scur, true, nil
		}
	}
	return 0, false, s.err(ctx, "in-flight", fmt.Errorf("backend %q: %w", backend, switcher.ErrNotFound))
}

// InFlight returns the requests the server of color serves (server
// mode): its current sessions plus the requests queued for it (a
// server's maxconn), from "show stat". The backend's shared queue is not
// counted: a drained server takes none of it.
func (s *ServerSwitcher) InFlight(ctx context.Context, color switcher.Color) (int, bool, error) {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return 0, false, err
	}
	rows, err := s.cfg.api.showStat(ctx, s.cfg.backend)
	if err != nil {
		return 0, false, wrap(ctx, "in-flight", s.target, err)
	}
	name := s.cfg.name(color)
	for _, r := range rows {
		if r.svname == name {
			return r.scur + r.qcur, true, nil
		}
	}
	return 0, false, wrap(ctx, "in-flight", s.target, fmt.Errorf("server %q in backend %q: %w", name, s.cfg.backend, switcher.ErrNotFound))
}

// statRow is one line of "show stat": a frontend, a backend's own line
// (svname BACKEND) or a server.
type statRow struct {
	pxname, svname string
	qcur, scur     int // requests queued, current sessions
}

// showStat reads the lines of one proxy from "show stat" (its CSV form:
// a header "# pxname,svname,qcur,qmax,scur,…", then one line a row).
func (r runtimeAPI) showStat(ctx context.Context, proxy string) ([]statRow, error) {
	cmd := "show stat " + proxy + " -1 -1"
	out, err := r.run(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out = strings.TrimSpace(out)
	if !strings.HasPrefix(out, "# ") {
		return nil, answerError(cmd, out)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", cmd, err)
	}
	cols := map[string]int{}
	for i, c := range recs[0] {
		cols[c] = i
	}
	for _, c := range []string{"pxname", "svname", "qcur", "scur"} {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("%q: no column %s in %q", cmd, c, strings.Join(recs[0], ","))
		}
	}
	var rows []statRow
	for _, rec := range recs[1:] {
		get := func(c string) string {
			if i := cols[c]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if get("pxname") != proxy {
			continue
		}
		row := statRow{pxname: get("pxname"), svname: get("svname")}
		for _, p := range []struct {
			col string
			dst *int
		}{{"qcur", &row.qcur}, {"scur", &row.scur}} {
			v := get(p.col)
			if v == "" {
				continue // a frontend has no queue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%q: column %s of %q: %w", cmd, p.col, strings.Join(rec, ","), err)
			}
			*p.dst = n
		}
		rows = append(rows, row)
	}
	return rows, nil
}
