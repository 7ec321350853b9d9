package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// watchdog is a small shell process that runs a cleanup command when this
// process dies without disarming it: a panicking test, a go test -timeout,
// a signal. It reads a pipe that only this process writes to, so the pipe's
// end of file is this process's death. It plays the part of testcontainers'
// reaper (Ryuk) without needing an image of its own.
type watchdog struct {
	w   *os.File
	cmd *exec.Cmd
}

func startWatchdog(cleanup string) (*watchdog, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("watchdog pipe: %w", err)
	}
	defer r.Close()
	script := `while read -r line; do [ "$line" = done ] && exit 0; done
` + cleanup
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Stdin = r
	// Its own process group, so a ^C to go test leaves it to clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	return &watchdog{w: w, cmd: cmd}, nil
}

// disarm tells the watchdog that the cleanup is done and waits for it to exit.
func (d *watchdog) disarm() {
	_, _ = fmt.Fprintln(d.w, "done")
	_ = d.w.Close()
	_ = d.cmd.Wait()
}
