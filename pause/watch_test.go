package main

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// run feeds a sample every 100 ms from `sample` until the watch ends; returns when and why.
func runWatch(settings Settings, sample func(ms int) Sample) (int, string) {
	w := NewWatch(settings, t0)
	for ms := 0; ; ms += 100 {
		s := sample(ms)
		s.At = at(ms)
		w.Observe(s)
		if done, why := w.Ending(at(ms)); done {
			return ms, why
		}
	}
}

var settings = Settings{
	Min: 2 * time.Second, Max: 20 * time.Second, Quiet: 3 * time.Second, ProbePeriods: []time.Duration{time.Second},
}

func TestNoTrafficEndsAtTheMinimumOrOneQuietPeriod(t *testing.T) {
	ms, why := runWatch(settings, func(int) Sample { return Sample{} })
	if ms != 3000 || why != "quiet" {
		t.Fatalf("ended at %d ms (%s), want 3000 (quiet): one whole quiet period watched", ms, why)
	}
	long := settings
	long.Min = 5 * time.Second
	if ms, _ := runWatch(long, func(int) Sample { return Sample{} }); ms != 5000 {
		t.Fatalf("ended at %d ms, want the minimum, 5000", ms)
	}
}

func TestProbesAloneDoNotKeepThePodWaiting(t *testing.T) {
	// One probe a second, each a connection of its own, sometimes caught by a sample while it lives.
	ms, why := runWatch(settings, func(ms int) Sample {
		s := Sample{PassiveOpens: uint64(ms / 1000)}
		if ms%1000 == 500 {
			s.Sockets = []Socket{{Cookie: uint64(ms), LastRecv: 0}}
		}
		return s
	})
	if ms != 3000 || why != "quiet" {
		t.Fatalf("ended at %d ms (%s), want 3000 (quiet)", ms, why)
	}
}

func TestNewConnectionsBeyondTheProbesAreTraffic(t *testing.T) {
	// 20 connections a second until 4 s, besides the probe.
	ms, why := runWatch(settings, func(ms int) Sample {
		return Sample{PassiveOpens: uint64(ms/1000 + 2*min(ms, 4000)/100)}
	})
	if ms != 7000 || why != "quiet" {
		t.Fatalf("ended at %d ms (%s), want 4000 + 3000 (quiet)", ms, why)
	}
}

func TestAKeptAliveConnectionCountsEveryRequest(t *testing.T) {
	// One connection, open before the pause, a request every 200 ms until 6 s: no new connections.
	ms, why := runWatch(settings, func(ms int) Sample {
		return Sample{Sockets: []Socket{{Cookie: 7, LastRecv: time.Duration(max(ms-6000, ms%200)) * time.Millisecond}}}
	})
	if ms != 9000 || why != "quiet" {
		t.Fatalf("ended at %d ms (%s), want 6000 + 3000", ms, why)
	}
}

func TestTrafficBeforeThePauseCounts(t *testing.T) {
	// A kept-alive connection last used 1 s before the pause began: quiet from 2 s on.
	ms, _ := runWatch(Settings{Min: time.Second, Max: 20 * time.Second, Quiet: 3 * time.Second}, func(ms int) Sample {
		return Sample{Sockets: []Socket{{Cookie: 7, LastRecv: time.Duration(1000+ms) * time.Millisecond}}}
	})
	if ms != 3000 {
		t.Fatalf("ended at %d ms, want 3000", ms)
	}
}

func TestAYoungConnectionWithRecentDataHoldsTheEnd(t *testing.T) {
	w := NewWatch(Settings{Max: time.Minute, Quiet: time.Second}, t0)
	w.Observe(Sample{At: at(5000), Sockets: []Socket{{Cookie: 1, LastRecv: 0}}})
	if done, _ := w.Ending(at(5000)); done {
		t.Fatal("ended while a new connection had just received data")
	}
	// Gone within its first second: a probe's or a one-request client's, counted by its opening.
	w.Observe(Sample{At: at(5100)})
	if done, _ := w.Ending(at(5100)); !done {
		t.Fatal("still waiting after the short connection went away")
	}
}

func TestTrafficThatNeverStopsIsCutAtTheMaximum(t *testing.T) {
	ms, why := runWatch(settings, func(ms int) Sample {
		return Sample{Sockets: []Socket{{Cookie: 7, LastRecv: 0}}, PassiveOpens: uint64(ms)}
	})
	if ms != 20000 || why != "maximum" {
		t.Fatalf("ended at %d ms (%s), want the maximum, 20000", ms, why)
	}
}

func TestLastTrafficIsReported(t *testing.T) {
	w := NewWatch(settings, t0)
	if _, seen := w.LastTraffic(); seen {
		t.Fatal("traffic reported before any was seen")
	}
	w.Observe(Sample{At: at(0)})
	w.Observe(Sample{At: at(100), PassiveOpens: 10})
	if last, seen := w.LastTraffic(); !seen || !last.Equal(at(100)) {
		t.Fatalf("last traffic %v %v, want at 100 ms", last, seen)
	}
}
