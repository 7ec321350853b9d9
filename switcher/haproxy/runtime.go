package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// defaultTimeout bounds one Runtime API command when the context has no
// deadline.
const defaultTimeout = 10 * time.Second

// runtimeAPI talks to HAProxy's stats socket in its non-interactive line
// protocol: one connection per command, the answer ends at EOF.
type runtimeAPI struct {
	network, addr string
}

// target names the socket in errors.
func (r runtimeAPI) target() string {
	if r.network == "unix" {
		return r.addr
	}
	return r.network + "://" + r.addr
}

// run sends one command and returns HAProxy's answer.
func (r runtimeAPI) run(ctx context.Context, cmd string) (string, error) {
	if strings.ContainsAny(cmd, "\r\n") {
		return "", fmt.Errorf("command %q holds a line break", cmd)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, r.network, r.addr)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return "", cerr
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("socket %w: %w", switcher.ErrNotFound, err)
		}
		return "", err
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", r.ioErr(ctx, cmd, err)
	}
	out, err := io.ReadAll(io.LimitReader(conn, 16<<20))
	if err != nil {
		return "", r.ioErr(ctx, cmd, err)
	}
	return string(out), nil
}

func (r runtimeAPI) ioErr(ctx context.Context, cmd string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("%s: %w", verb(cmd), err)
}

// set runs a command that answers nothing on success; any answer is the
// error HAProxy reports.
func (r runtimeAPI) set(ctx context.Context, cmd string) error {
	out, err := r.run(ctx, cmd)
	if err != nil {
		return err
	}
	if msg := strings.TrimSpace(out); msg != "" {
		return answerError(cmd, msg)
	}
	return nil
}

// answerError turns an error message from HAProxy into an error, wrapping
// switcher.ErrNotFound when HAProxy did not find what the command named.
func answerError(cmd, msg string) error {
	lower := strings.ToLower(msg)
	for _, s := range []string{"no such", "can't find", "not found", "unknown map"} {
		if strings.Contains(lower, s) {
			return fmt.Errorf("%q: haproxy answered %q: %w", cmd, msg, switcher.ErrNotFound)
		}
	}
	return fmt.Errorf("%q: haproxy answered %q", cmd, msg)
}

// verb is the command without its arguments past the first two words.
func verb(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) > 2 {
		f = f[:2]
	}
	return strings.Join(f, " ")
}

// checkName rejects a name the line protocol would split or reinterpret.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == ';' || r == '\\' || r == '#' || r == '"' || r == '\'' {
			return fmt.Errorf("%s %q holds %q, which the Runtime API cannot take", what, s, r)
		}
	}
	return nil
}

// serverState is one line of "show servers state".
type serverState struct {
	name     string
	opState  int // 0 stopped, 1 starting, 2 running, 3 stopping
	admState int // SRV_ADMF_* flags
	uweight  int // user weight
	iweight  int // initial weight
	chkState int // CHK_ST_* flags of the health check
	chkRes   int // CHK_RES_*: 0 unknown, 1 neutral, 2 failed, 3 passed, 4 passed conditionally
}

// Health check flags and results of HAProxy's check.h.
const (
	chkConfigured = 0x02
	chkEnabled    = 0x04
	chkPaused     = 0x08
	chkPassed     = 3
	chkCondPassed = 4
)

// up reports whether the server takes traffic and, when it has a running
// health check, has passed it. A server leaving maintenance counts as up at
// once for HAProxy, before its first check; up waits for that check.
func (s serverState) up() bool {
	if s.effectiveWeight() == 0 {
		return false
	}
	checked := s.chkState&(chkConfigured|chkEnabled) == chkConfigured|chkEnabled && s.chkState&chkPaused == 0
	return !checked || s.chkRes == chkPassed || s.chkRes == chkCondPassed
}

// Admin state flags of HAProxy's servers.h. Config maintenance (0x04) only
// remembers the "disabled" keyword and stays set after "state ready".
const (
	admConfigMaint = 0x04
	admDrain       = 0x08 | 0x10
)

// effectiveWeight is the weight the load balancing uses: 0 for a server in
// maintenance, draining or down.
func (s serverState) effectiveWeight() int {
	if s.opState == 0 || s.opState == 3 || s.admState&^admConfigMaint != 0 {
		return 0
	}
	return s.uweight
}

func (s serverState) String() string {
	state := "ready"
	switch {
	case s.admState&admDrain != 0:
		state = "drain"
	case s.admState&^admConfigMaint != 0:
		state = "maint"
	case s.opState == 0:
		state = "down"
	}
	return fmt.Sprintf("%s (%s, weight %d)", s.name, state, s.uweight)
}

// showServersState reads the servers of backend.
func (r runtimeAPI) showServersState(ctx context.Context, backend string) (map[string]serverState, error) {
	cmd := "show servers state " + backend
	out, err := r.run(ctx, cmd)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "# ") {
		return nil, answerError(cmd, strings.TrimSpace(out))
	}
	cols := map[string]int{}
	for i, c := range strings.Fields(strings.TrimPrefix(lines[1], "# ")) {
		cols[c] = i
	}
	need := []string{"be_name", "srv_name", "srv_op_state", "srv_admin_state", "srv_uweight", "srv_iweight"}
	for _, c := range need {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("%q: no column %s in %q", cmd, c, lines[1])
		}
	}
	servers := map[string]serverState{}
	for _, line := range lines[2:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		get := func(c string) string {
			if i := cols[c]; i < len(f) {
				return f[i]
			}
			return ""
		}
		if get("be_name") != backend {
			continue
		}
		var s serverState
		s.name = get("srv_name")
		for _, p := range []struct {
			col string
			dst *int
		}{{"srv_op_state", &s.opState}, {"srv_admin_state", &s.admState}, {"srv_uweight", &s.uweight}, {"srv_iweight", &s.iweight},
			{"srv_check_state", &s.chkState}, {"srv_check_result", &s.chkRes}} {
			if _, ok := cols[p.col]; !ok {
				continue // older versions: the check columns are optional
			}
			if _, err := fmt.Sscan(get(p.col), p.dst); err != nil {
				return nil, fmt.Errorf("%q: column %s of %q: %w", cmd, p.col, line, err)
			}
		}
		servers[s.name] = s
	}
	return servers, nil
}
