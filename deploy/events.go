package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Outcomes of an Event.
const (
	Start    = "start"    // a step begins
	OK       = "ok"       // a step ended well
	Failed   = "failed"   // a step failed
	Skipped  = "skipped"  // a step had nothing to do or was turned off
	Progress = "progress" // a long step is still running
	Info     = "info"     // something worth telling that is no step
)

// Event is one thing a deploy, rollback, switch, retire or contract did.
// Every step emits Start, then Progress events while it waits, then OK,
// Failed or Skipped with its duration.
type Event struct {
	Time     time.Time      `json:"time"`
	Service  string         `json:"service"`
	Step     string         `json:"step"`
	Outcome  string         `json:"outcome"`
	Duration float64        `json:"duration_s,omitempty"` // seconds, on the step's last event
	Message  string         `json:"message,omitempty"`
	Fields   map[string]any `json:"fields,omitempty"`
}

// Reporter receives the events. It must be safe for concurrent use.
type Reporter interface {
	Event(Event)
}

// Discard drops every event.
var Discard Reporter = discard{}

type discard struct{}

func (discard) Event(Event) {}

// JSONReporter writes one JSON object per event and line, for pipelines.
type JSONReporter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONReporter writes events to w.
func NewJSONReporter(w io.Writer) *JSONReporter { return &JSONReporter{w: w} }

// Event writes e.
func (r *JSONReporter) Event(e Event) {
	b, err := json.Marshal(e)
	if err != nil {
		b, _ = json.Marshal(Event{Time: e.Time, Service: e.Service, Step: e.Step, Outcome: e.Outcome, Message: e.Message})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Write(append(b, '\n'))
}

// TextReporter writes one line per finished step with its duration, for
// people. On a terminal, Progress events rewrite a status line in place;
// elsewhere they are dropped, so logs hold only the finished steps.
type TextReporter struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	pending  bool // a progress line is on screen
}

// NewTextReporter writes to w; terminal turns the in-place progress line on.
func NewTextReporter(w io.Writer, terminal bool) *TextReporter {
	return &TextReporter{w: w, terminal: terminal}
}

var marks = map[string]string{OK: "ok", Failed: "FAILED", Skipped: "skipped", Info: "--"}

// Event writes e.
func (r *TextReporter) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Outcome {
	case Start:
		return
	case Progress:
		if r.terminal {
			fmt.Fprintf(r.w, "\r\033[K  %-11s %s", e.Step, e.Message)
			r.pending = true
		}
		return
	}
	if r.pending {
		fmt.Fprint(r.w, "\r\033[K")
		r.pending = false
	}
	dur := ""
	if e.Outcome != Info {
		dur = formatDuration(time.Duration(e.Duration * float64(time.Second)))
	}
	line := fmt.Sprintf("%-7s %-11s %7s  %s", marks[e.Outcome], e.Step, dur, e.Message)
	fmt.Fprintln(r.w, strings.TrimRight(line, " "))
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// step times one step and reports its events.
type step struct {
	r       Reporter
	service string
	name    string
	start   time.Time
}

func (d *Deployer) begin(name, format string, args ...any) *step {
	s := &step{r: d.report(), service: d.Config.Service, name: name, start: time.Now()}
	s.r.Event(Event{Time: s.start, Service: s.service, Step: name, Outcome: Start, Message: fmt.Sprintf(format, args...)})
	return s
}

func (s *step) emit(outcome string, fields map[string]any, format string, args ...any) {
	now := time.Now()
	e := Event{Time: now, Service: s.service, Step: s.name, Outcome: outcome, Message: fmt.Sprintf(format, args...), Fields: fields}
	if outcome != Progress && outcome != Info {
		e.Duration = now.Sub(s.start).Seconds()
	}
	s.r.Event(e)
}

func (s *step) ok(fields map[string]any, format string, args ...any) {
	s.emit(OK, fields, format, args...)
}

func (s *step) skip(format string, args ...any) { s.emit(Skipped, nil, format, args...) }

func (s *step) progress(format string, args ...any) { s.emit(Progress, nil, format, args...) }

// fail reports err and returns it.
func (s *step) fail(err error) error {
	s.emit(Failed, nil, "%v", err)
	return err
}
