package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// WaitOptions are `wait`'s flags.
type WaitOptions struct {
	Settings
	Ports       map[uint16]bool
	MessageFile string
}

// Interval between two looks at the sockets: short enough to see kept-alive connections come and
// go, cheap enough (two netlink dumps) to cost nothing noticeable.
const Interval = 100 * time.Millisecond

func parseList[T any](text string, parse func(string) (T, error)) ([]T, error) {
	var items []T
	for _, part := range strings.Split(text, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		item, err := parse(part)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, nil
}

func parsePort(text string) (uint16, error) {
	port, err := strconv.ParseUint(text, 10, 16)
	if err != nil || port == 0 {
		return 0, fmt.Errorf("%q is not a port", text)
	}
	return uint16(port), nil
}

func parseWait(args []string) (WaitOptions, error) {
	flags := flag.NewFlagSet("wait", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	o := WaitOptions{Ports: map[uint16]bool{}}
	flags.DurationVar(&o.Min, "min", 0, "shortest pause")
	flags.DurationVar(&o.Max, "max", 0, "longest pause")
	flags.DurationVar(&o.Quiet, "quiet", 5*time.Second, "no client traffic for this long ends the pause")
	ports := flags.String("ports", "", "the ports the Pod serves (default: every port something listens on)")
	probes := flags.String("probe-periods", "", "periods of the probes that may open a connection")
	flags.StringVar(&o.MessageFile, "message-file", "/dev/termination-log", "the container's termination message file")
	if err := flags.Parse(args); err != nil {
		return o, err
	}
	if flags.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}
	if o.Max <= 0 || o.Min < 0 || o.Quiet <= 0 || o.Min > o.Max {
		return o, errors.New("want 0 <= --min <= --max, --max and --quiet above 0")
	}
	list, err := parseList(*ports, parsePort)
	if err != nil {
		return o, fmt.Errorf("--ports: %w", err)
	}
	for _, port := range list {
		o.Ports[port] = true
	}
	if o.ProbePeriods, err = parseList(*probes, time.ParseDuration); err != nil {
		return o, fmt.Errorf("--probe-periods: %w", err)
	}
	return o, nil
}

// Clock and Kernel are what a pause reads from the world: replaced in tests.
type Clock interface {
	Now() time.Time
	Sleep(time.Duration)
}

type Kernel interface {
	Dump() ([]Connection, error)
	PassiveOpens() (uint64, error)
}

type systemClock struct{}

func (systemClock) Now() time.Time        { return time.Now() }
func (systemClock) Sleep(d time.Duration) { time.Sleep(d) }

type kernel struct{}

func (kernel) Dump() ([]Connection, error)   { return Dump() }
func (kernel) PassiveOpens() (uint64, error) { return PassiveOpens() }

// Report is what one pause came to: the container's termination message, as JSON.
type Report struct {
	Lameduck string `json:"lameduck"`
	PausedMs int64  `json:"pausedMs"`
	// EndedBy is "quiet" (no client traffic for the quiet period) or "maximum".
	EndedBy string `json:"endedBy"`
	// LastRequestAt is when client traffic last reached the Pod; LastRequestMs the same, in ms from
	// the pause's start (negative: before it). Absent when none was seen.
	LastRequestAt *time.Time `json:"lastRequestAt,omitempty"`
	LastRequestMs *int64     `json:"lastRequestMs,omitempty"`
	MinMs         int64      `json:"minMs"`
	MaxMs         int64      `json:"maxMs"`
	QuietMs       int64      `json:"quietMs"`
	// Error says why the sockets could not be read: the pause then runs to the maximum.
	Error string `json:"error,omitempty"`
}

func look(k Kernel, o WaitOptions, now time.Time) (Sample, error) {
	connections, err := k.Dump()
	if err != nil {
		return Sample{}, err
	}
	opens, err := k.PassiveOpens()
	if err != nil {
		return Sample{}, err
	}
	return Sample{At: now, Sockets: ClientSockets(connections, o.Ports), PassiveOpens: opens}, nil
}

// pause watches until the pause is over and says what it saw. When the sockets cannot be read,
// it never ends early: it waits for the maximum.
func pause(o WaitOptions, clock Clock, k Kernel) Report {
	start := clock.Now()
	watch := NewWatch(o.Settings, start)
	report := Report{
		Lameduck: "adaptive preStop pause",
		MinMs:    o.Min.Milliseconds(),
		MaxMs:    o.Max.Milliseconds(),
		QuietMs:  o.Quiet.Milliseconds(),
	}
	for {
		now := clock.Now()
		sample, err := look(k, o, now)
		if err != nil {
			report.Error = err.Error()
			if rest := o.Max - now.Sub(start); rest > 0 {
				clock.Sleep(rest)
			}
			report.EndedBy = "maximum"
			break
		}
		watch.Observe(sample)
		if done, why := watch.Ending(now); done {
			report.EndedBy = why
			break
		}
		clock.Sleep(Interval)
	}
	report.PausedMs = clock.Now().Sub(start).Milliseconds()
	if last, seen := watch.LastTraffic(); seen {
		at, ms := last.UTC(), last.Sub(start).Milliseconds()
		report.LastRequestAt, report.LastRequestMs = &at, &ms
	}
	return report
}

// deliver writes the report to the termination message file (the kubelet puts it in the Pod's
// status when the container ends) and to stdout (the kubelet shows a hook's output only when it fails).
func deliver(report Report, messageFile string, stdout, stderr io.Writer) {
	line, _ := json.Marshal(report)
	fmt.Fprintln(stdout, string(line))
	if err := os.WriteFile(messageFile, line, 0o644); err != nil {
		fmt.Fprintf(stderr, "lameduck-pause: cannot write the termination message: %v\n", err)
	}
}
