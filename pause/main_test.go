package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time        { return c.now }
func (c *fakeClock) Sleep(d time.Duration) { c.now = c.now.Add(d) }

// fakeKernel: a kept-alive connection with a request every 100 ms until `until`.
type fakeKernel struct {
	clock    *fakeClock
	until    time.Duration
	failAt   int
	dumpErr  error
	opensErr error
	calls    int
}

func (k *fakeKernel) Dump() ([]Connection, error) {
	k.calls++
	if k.dumpErr != nil && k.calls >= k.failAt {
		return nil, k.dumpErr
	}
	since := k.clock.now.Sub(t0)
	last := time.Duration(0)
	if since > k.until {
		last = since - k.until
	}
	return []Connection{{State: 1, LocalPort: 8080, Cookie: 1, HasLastRecv: true, LastRecv: last}}, nil
}

func (k *fakeKernel) PassiveOpens() (uint64, error) { return 0, k.opensErr }

func options() WaitOptions {
	settings := Settings{Min: time.Second, Max: 30 * time.Second, Quiet: 2 * time.Second}
	return WaitOptions{Settings: settings, Ports: map[uint16]bool{8080: true}}
}

func TestPauseEndsOnceTrafficStops(t *testing.T) {
	clock := &fakeClock{now: t0}
	report := pause(options(), clock, &fakeKernel{clock: clock, until: 5 * time.Second})
	if report.EndedBy != "quiet" || report.PausedMs != 7000 || report.LastRequestMs == nil ||
		*report.LastRequestMs != 5000 || !report.LastRequestAt.Equal(at(5000)) {
		t.Fatalf("got %+v", report)
	}
}

func TestPauseRunsToTheMaximumWhenItCannotSee(t *testing.T) {
	for _, k := range []*fakeKernel{{dumpErr: errors.New("no netlink"), failAt: 3}, {opensErr: errors.New("no /proc")}} {
		clock := &fakeClock{now: t0}
		k.clock = clock
		report := pause(options(), clock, k)
		if report.EndedBy != "maximum" || report.PausedMs != 30000 || report.Error == "" {
			t.Fatalf("got %+v", report)
		}
	}
}

func TestParseWait(t *testing.T) {
	args := "--min 5s --max 2m --quiet 3s --ports 8080,,8443 --probe-periods 10s,1s --message-file /m"
	o, err := parseWait(strings.Fields(args))
	if err != nil || o.Min != 5*time.Second || o.Max != 2*time.Minute || o.Quiet != 3*time.Second ||
		!o.Ports[8080] || !o.Ports[8443] || len(o.Ports) != 2 ||
		len(o.ProbePeriods) != 2 || o.ProbePeriods[1] != time.Second || o.MessageFile != "/m" {
		t.Fatalf("got %+v, %v", o, err)
	}
	o, _ = parseWait([]string{"--max", "1m"})
	if o.Quiet != 5*time.Second || len(o.Ports) != 0 || o.MessageFile != "/dev/termination-log" {
		t.Fatalf("defaults: got %+v", o)
	}
	for _, bad := range []string{"", "--max 0s", "--min 2m --max 1m", "--max 1m --quiet 0s", "--max 1m --ports 0",
		"--max 1m --ports http", "--max 1m --probe-periods 10", "--max 1m extra", "--bogus 1"} {
		if _, err := parseWait(strings.Fields(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestInstallCopiesTheProgram(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "self")
	os.WriteFile(self, []byte("binary"), 0o600)
	target := t.TempDir()
	if err := install(self, target); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(target, Name))
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("installed: %v %v", info, err)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 1 {
		t.Fatalf("left %d files behind, want only the program", len(entries))
	}
	if install(filepath.Join(dir, "missing"), target) == nil || install(self, filepath.Join(dir, "missing")) == nil {
		t.Fatal("a missing source or folder was not an error")
	}
}

func TestRun(t *testing.T) {
	var out, errs bytes.Buffer
	dir := t.TempDir()
	if code := run([]string{"install", dir}, &out, &errs); code != 0 || !strings.Contains(out.String(), "installed") {
		t.Fatalf("install: %d %q %q", code, out.String(), errs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, Name)); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"install", filepath.Join(dir, "missing")}, &out, &errs); code != 1 {
		t.Fatalf("install into a missing folder: %d", code)
	}
	for _, args := range [][]string{nil, {"install"}, {"wait", "--max", "x"}, {"sleep"}} {
		if code := run(args, &out, &errs); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	message := filepath.Join(dir, "message")
	out.Reset()
	wait := []string{"wait", "--max", "300ms", "--quiet", "100ms", "--ports", "1", "--message-file", message}
	if code := run(wait, &out, &errs); code != 0 {
		t.Fatalf("wait: %d %q", code, errs.String())
	}
	var report Report
	written, _ := os.ReadFile(message)
	err := json.Unmarshal(written, &report)
	if err != nil || report.EndedBy == "" || strings.TrimSpace(out.String()) != string(written) {
		t.Fatalf("message %q (%v), stdout %q", written, err, out.String())
	}
}

func TestDeliverSaysWhenTheMessageCannotBeWritten(t *testing.T) {
	var out, errs bytes.Buffer
	deliver(Report{EndedBy: "quiet"}, filepath.Join(t.TempDir(), "missing", "file"), &out, &errs)
	said, printed := errs.String(), out.String()
	if !strings.Contains(said, "cannot write the termination message") || !strings.Contains(printed, `"endedBy":"quiet"`) {
		t.Fatalf("stdout %q, stderr %q", out.String(), errs.String())
	}
}
